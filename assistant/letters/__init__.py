"""Letters: penalties, locale formatting, template rendering (text, HTML, PDF) and validation.

Pure apart from reading templates and the packaged rate table; nothing here sends,
stores or looks at the clock.
"""
