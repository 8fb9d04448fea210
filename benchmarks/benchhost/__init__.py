"""The Django app of bench_django.py: a host's user model, as django-scim2 wants it."""
