"""The example apps are run by tests/contrib/test_examples.py; the Django one needs Django set
up first, so it is not imported when the doctests are collected."""

collect_ignore = ["django_accounts.py"]
