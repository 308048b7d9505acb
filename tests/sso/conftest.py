import pytest

from tests.factories import HRAdminMembershipFactory, OrganisationFactory


@pytest.fixture
def acme(db):
    """The organisation whose people the test identity providers know (tests/partners)."""
    return OrganisationFactory(name="Acme", email_domains="acme.test")


@pytest.fixture
def acme_hr(acme):
    return HRAdminMembershipFactory(organisation=acme, user__email="hana@acme.test").user
