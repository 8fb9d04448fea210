"""The host's users: Django's ``AbstractUser`` with django-scim2's ``scim_*`` columns."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django_scim.models import AbstractSCIMUserMixin

from scimcore.contrib.django import Fold


class Person(AbstractSCIMUserMixin, AbstractUser):  # type: ignore[misc]
    """One user; ``version`` is scimcore's ETag column."""

    version = models.IntegerField(default=1)

    @property
    def scim_groups(self) -> object:
        """django-scim2 lists a user's groups: Django's own."""
        return self.groups

    class Meta:
        app_label = "benchhost"
        # The expression DjangoStore's userName lookup compares, so the lookup uses it.
        indexes = (models.Index(Fold("scim_username"), name="person_scim_username_folded"),)
