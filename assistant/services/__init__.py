"""Services: the verbs of the product (run_cycle, approve_draft, …), each one transaction."""
