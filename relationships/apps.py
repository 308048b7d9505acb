from django.apps import AppConfig


class RelationshipsConfig(AppConfig):
    name = "relationships"

    def ready(self):
        from accounts.services import invitation_accepted
        from relationships.services import relationship_attach_invited_coachee

        def attach_coaching_invitations(sender, *, invitation, user, **kwargs):
            relationship_attach_invited_coachee(invitation=invitation, user=user)

        invitation_accepted.connect(
            attach_coaching_invitations,
            weak=False,  # a local function: a weak reference would let it be collected
            dispatch_uid="relationships.attach_invited_coachee",
        )
