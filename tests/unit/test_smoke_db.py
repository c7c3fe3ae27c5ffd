from sqlmodel import select

from assistant.db.models import Creditor


def test_a_creditor_round_trips_through_the_database(session):
    session.add(Creditor(slug="acme", name="ACME SAS"))
    session.commit()
    assert session.exec(select(Creditor.name)).one() == "ACME SAS"
