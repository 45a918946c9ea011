"""Staff accounts: who manages which account, and the writes on an account that any app's admin makes.

The kernel knows no roles. An app whose roles give accounts powers (stations: roles on units; later
volunteers: team roles) registers an `AccountExtension`, usually in its AppConfig.ready():

    register_account_extension(StationsAccounts())

The rule, for an actor who is not a superuser: an account is manageable iff it is not a superuser, it
is not the actor, at least one extension says the actor manages it (`managed_q`: it holds something
inside the actor's reach) and no extension says it holds something beyond (`unmanaged_q`). So nobody
edits a superuser, themselves, or an account holding a role outside their scope, whichever app's role
that is. A superuser manages every account; `actor=None` is the system itself (commands, seeding).

An extension also contributes to the account admin (kernel.admin_accounts): inlines on the account page,
list columns, filters, search fields, actions, the prefetch its columns need, and the form that creates
an account with its first role.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from .errors import ApplicationError
from .services import lock_one, model_save, model_update, model_validate

NOTHING = Q(pk__in=[])


class AccountExtension:
    """What one app contributes to the rule and to the account admin. Override what applies."""

    name: str = ""  # registering again under the same name replaces the earlier one
    # Admin contributions (classes or callables, as a ModelAdmin takes them). A list column is a callable
    # taking the account (decorate it with admin.display); an inline saves its rows through services by
    # a `save_rows(request, formset)` method.
    inlines: tuple = ()
    list_display: tuple = ()
    list_filter: tuple = ()
    search_fields: tuple = ()
    actions: tuple = ()
    # A form class creating an account in the admin, with `account_create(*, actor)`; the first
    # extension that offers one is used.
    add_form = None

    def manages_accounts(self, actor) -> bool:
        """Whether `actor` manages any accounts through this app (shows the account admin)."""
        return False

    def managed_q(self, actor) -> Q:
        """Accounts holding something of this app inside `actor`'s reach."""
        return NOTHING

    def unmanaged_q(self, actor) -> Q:
        """Accounts holding something of this app beyond `actor`'s reach: never manageable by them."""
        return NOTHING

    def list_queryset(self, queryset: QuerySet) -> QuerySet:
        """The account list with what this app's columns read (prefetches): constant queries."""
        return queryset


_extensions: dict[str, AccountExtension] = {}


def register_account_extension(extension: AccountExtension) -> None:
    _extensions[extension.name or type(extension).__qualname__] = extension


def account_extensions() -> tuple[AccountExtension, ...]:
    return tuple(_extensions.values())


# --- The rule -------------------------------------------------------------------------------------


def _system_or_superuser(actor) -> bool:
    return actor is None or (actor.is_active and actor.is_superuser)


def manages_accounts(actor) -> bool:
    """Whether `actor` manages any accounts at all."""
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return actor is None
    return actor.is_superuser or any(ext.manages_accounts(actor) for ext in _extensions.values())


def manageable_q(actor) -> Q:
    """The rule as one filter on accounts: no query of its own beyond each app's scope."""
    if _system_or_superuser(actor):
        return Q()
    if not manages_accounts(actor):
        return NOTHING
    claimed, beyond = NOTHING, NOTHING
    for extension in _extensions.values():
        claimed |= extension.managed_q(actor)
        beyond |= extension.unmanaged_q(actor)
    return claimed & ~beyond & Q(is_superuser=False) & ~Q(pk=actor.pk)


def manageable_accounts(actor) -> QuerySet:
    return get_user_model()._default_manager.filter(manageable_q(actor))


def may_manage(actor, user) -> bool:
    if _system_or_superuser(actor):
        return True
    if user is None or user.pk is None or user.pk == actor.pk or user.is_superuser:
        return False
    return manageable_accounts(actor).filter(pk=user.pk).exists()


def require_manageable(actor, user, *, field: str | None = None) -> None:
    if not may_manage(actor, user):
        raise ApplicationError(
            _("This account is outside the accounts you manage."),
            field=field,
        )


def lock_account(user):
    """The account locked as stored now: writes on one account (its roles too) go one at a time."""
    return lock_one(get_user_model(), user.pk)


# --- Writes ---------------------------------------------------------------------------------------

# What a managing admin changes about an account, and what only a system administrator does.
ACCOUNT_FIELDS = ("first_name", "email")
SUPERUSER_FIELDS = ("username", "last_name", "is_staff", "is_superuser", "groups", "user_permissions")
_MANY = ("groups", "user_permissions")


def validate_new_password(password: str, user, *, field: str = "password") -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise ApplicationError(error.messages[0], field=field) from error


def _require_real_name(real_name: str) -> str:
    real_name = (real_name or "").strip()
    if not real_name:
        raise ApplicationError(_("Enter the person's real name."), field="first_name")
    return real_name


def account_build(*, username: str, real_name: str, password: str, email: str = ""):
    """Make and save a new account. No check of who asks: callers are the create services below and in
    the apps, which decide that first (an account is never made without the role it is made for)."""
    model = get_user_model()
    username = (username or "").strip()
    user = model(username=username, first_name=_require_real_name(real_name), email=email)
    model_validate(user, exclude=["password"])
    if model._default_manager.filter(username__iexact=username).exists():
        raise ApplicationError(_("A user with that username already exists."), field="username")
    validate_new_password(password, user)
    user.set_password(password)
    model_save(user)
    return user


@transaction.atomic
def account_create(*, actor, username: str, real_name: str, password: str, email: str = ""):
    """An account without any role: only a system administrator makes one (apps create theirs with
    their first role, e.g. stations.accounts.staff_account_create)."""
    if not _system_or_superuser(actor):
        raise ApplicationError(_("Only a system administrator may create an account without a role."))
    return account_build(username=username, real_name=real_name, password=password, email=email)


@transaction.atomic
def account_update(*, actor, user, **fields):
    """Change an account's real name or email; a system administrator also its username, flags, groups
    and permissions."""
    user = lock_account(user)
    require_manageable(actor, user)
    if not _system_or_superuser(actor):
        for name in SUPERUSER_FIELDS:
            if name in fields:
                raise ApplicationError(
                    _("Only a system administrator may change this."),
                    field=name,
                )
    if "first_name" in fields:
        fields["first_name"] = _require_real_name(fields["first_name"])
    many = {name: fields.pop(name) for name in _MANY if name in fields}
    model_update(instance=user, fields=ACCOUNT_FIELDS + SUPERUSER_FIELDS, data=fields)
    for name, values in many.items():
        getattr(user, name).set(values)
    return user


def _set_active(actor, user, active: bool):
    user = lock_account(user)
    require_manageable(actor, user)
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
    return user


@transaction.atomic
def account_deactivate(*, actor, user):
    """The account can no longer sign in (its session ends with the next request); its roles stay, so
    reactivating it restores what it had."""
    return _set_active(actor, user, False)


@transaction.atomic
def account_reactivate(*, actor, user):
    return _set_active(actor, user, True)


@transaction.atomic
def account_login_unlock(*, actor, user) -> int:
    """Lift the lockout that repeated failed logins put on the account, before its cool-off ends."""
    from .auth import login_unlock

    user = lock_account(user)
    require_manageable(actor, user)
    return login_unlock(username=user.get_username())


@transaction.atomic
def account_password_set(*, actor, user, password: str | None):
    """Reset an account's password (None: no password login at all, for a system administrator). The
    account's sessions end, as Django ties them to the password."""
    user = lock_account(user)
    require_manageable(actor, user)
    if password is None:
        if not _system_or_superuser(actor):
            raise ApplicationError(_("Only a system administrator may change this."), field="password1")
        user.set_unusable_password()
    else:
        validate_new_password(password, user, field="password1")
        user.set_password(password)
    user.save(update_fields=["password"])
    return user
