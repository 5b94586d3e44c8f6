"""The administration forms. Every validator carries a message of ours (WTForms has no
Vietnamese catalogue); filters are plain GET forms without CSRF, changes are FlaskForms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Form,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import EqualTo, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from repository import accounts
from repository.access_rules import RuleChange, describe
from repository.models import AccessLevel, AccessRule, AccountStatus, Group, Role
from viewer.admin.labels import LEVEL_LABELS, RIGHT_LABELS, TARGET_LABELS
from viewer.auth import (
    ACCOUNT_STATUS_LABELS,
    PASSWORD_TOO_SHORT,
    PASSWORDS_DIFFER,
    REQUIRED,
    ROLE_LABELS,
    TOO_LONG,
)

BAD_DATE = _l("Please give a valid date, or leave it empty.")
BAD_CHOICE = _l("Please choose one of the options.")
ANY = _l("Any")


def required() -> InputRequired:
    return InputRequired(message=REQUIRED)


def at_most(length: int) -> Length:
    return Length(max=length, message=TOO_LONG)


class OurDateField(DateField):
    """A date input whose parse error speaks the reader's language."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(str(BAD_DATE)) from exc


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def options(pairs) -> list[SelectChoice]:
    """Choices for a select from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def choose(label, choices=(), **kwargs) -> SelectField:
    return SelectField(label, choices=options(choices), invalid_choice_message=BAD_CHOICE,
                       **kwargs)


LEVEL_CHOICES = [(level.value, LEVEL_LABELS[level.value]) for level in AccessLevel]
ROLE_CHOICES = [(role.value, ROLE_LABELS[role.value]) for role in Role]


# -- rights ---------------------------------------------------------------------------------

class RuleForm(FlaskForm):
    metadata = choose(RIGHT_LABELS["metadata"], choices=LEVEL_CHOICES, description=_l(
        "Who may find it in lists and search results and see its description."))
    view = choose(RIGHT_LABELS["view"], choices=LEVEL_CHOICES, description=_l(
        "Reading the pages also needs the right to see the description."))
    download = choose(RIGHT_LABELS["download"], choices=LEVEL_CHOICES, description=_l(
        "Downloading also needs the right to read the pages."))
    groups = MultiCheckboxField(_l("Groups"), choices=[], invalid_choice_message=BAD_CHOICE,
                                description=_l(
        "For the level “Members of the chosen groups”."))
    embargo_until = OurDateField(_l("Embargo until"), validators=[Optional()], description=_l(
        "Until this date only library staff have access. Leave empty for no embargo."))
    watermark = BooleanField(_l("Stamp the reader's card number and the date on delivered "
                                "pages"))

    def change(self) -> RuleChange:
        """The complete rule the form describes (groups kept only where a level uses them)."""
        levels = {name: AccessLevel(getattr(self, name).data)
                  for name in ("metadata", "view", "download")}
        uses_groups = AccessLevel.GROUPS in levels.values()
        return RuleChange(**levels, groups=list(self.groups.data or []) if uses_groups else [],
                          embargo_until=self.embargo_until.data,
                          clear_embargo=self.embargo_until.data is None,
                          watermark=bool(self.watermark.data))


def rule_form(groups: list[Group], rule: AccessRule | None = None, prefix: str = "rule",
              bound: bool = True) -> RuleForm:
    """The rights form filled from ``rule`` (or the defaults), the groups to choose from;
    ``bound`` False ignores the request (another form on the page was sent)."""
    data = describe(rule) if rule is not None else {
        "metadata": "open", "view": "open", "download": "readers", "groups": [],
        "embargo_until": None, "watermark": False}
    if rule is not None:
        data["embargo_until"] = rule.embargo_until
    form = RuleForm(prefix=prefix, data=data, **({} if bound else {"formdata": None}))
    form.groups.choices = options((group.name, f"{group.title} ({group.name})")
                                  for group in groups)
    return form


class BulkRuleForm(RuleForm):
    apply = SubmitField(_l("Give the selected items these rights"))
    follow = SubmitField(_l("Let the selected items follow the collection"))


def bulk_form(groups: list[Group]) -> BulkRuleForm:
    form = BulkRuleForm(prefix="bulk", data={"metadata": "open", "view": "open",
                                             "download": "readers"})
    form.groups.choices = options((group.name, f"{group.title} ({group.name})")
                                  for group in groups)
    return form


# -- accounts -------------------------------------------------------------------------------

class AccountForm(FlaskForm):
    display_name = StringField(_l("Full name"), validators=[Optional(), at_most(255)])
    card_number = StringField(_l("Library card number"), validators=[Optional(), at_most(64)])
    expires_on = OurDateField(_l("Valid until"), validators=[Optional()],
                              description=_l("Leave empty for no expiry date."))
    status = choose(_l("Status"), choices=[])
    role = choose(_l("Role"), choices=ROLE_CHOICES,
                       description=_l("Only an administrator can change roles."))


def account_form(user, may_change_role: bool) -> AccountForm:
    form = AccountForm(data={
        "display_name": user.display_name, "card_number": user.card_number,
        "expires_on": user.expires_on, "status": user.status.value, "role": user.role.value})
    statuses = [AccountStatus.ACTIVE, AccountStatus.DISABLED]
    if user.status is AccountStatus.PENDING:
        statuses.insert(0, AccountStatus.PENDING)
    form.status.choices = options((s.value, ACCOUNT_STATUS_LABELS[s.value]) for s in statuses)
    if not may_change_role:
        del form.role
    return form


class NewAccountForm(FlaskForm):
    username = StringField(_l("Username"), validators=[required(), at_most(32)],
                           description=_l("3 to 32 characters: letters a-z, digits, dot, "
                                          "hyphen or underscore."))
    display_name = StringField(_l("Full name"), validators=[Optional(), at_most(255)])
    email = EmailField(_l("Email address"), validators=[Optional(), at_most(255)])
    card_number = StringField(_l("Library card number"), validators=[Optional(), at_most(64)])
    expires_on = OurDateField(_l("Valid until"), validators=[Optional()],
                              description=_l("Leave empty for no expiry date."))
    role = choose(_l("Role"), choices=ROLE_CHOICES, default=Role.READER.value,
                       description=_l("Only an administrator can create staff accounts."))
    password = PasswordField(_l("Password"), validators=[
        required(), Length(min=accounts.PASSWORD_MIN_LENGTH, message=PASSWORD_TOO_SHORT),
        at_most(accounts.PASSWORD_MAX_LENGTH)], description=_l("At least 10 characters."))
    confirm = PasswordField(_l("Repeat the password"), validators=[
        required(), EqualTo("password", message=PASSWORDS_DIFFER)])


class UserFilter(Form):
    q = StringField(_l("Name, username, email or card"), validators=[Optional(), at_most(100)])
    role = choose(_l("Role"), choices=[("", ANY), *ROLE_CHOICES], default="")
    status = choose(_l("Status"), choices=[("", ANY), *(
        (s.value, ACCOUNT_STATUS_LABELS[s.value]) for s in AccountStatus)], default="")


# -- groups ---------------------------------------------------------------------------------

GROUP_TITLE = _l("Group name")


class GroupForm(FlaskForm):
    name = StringField(_l("Short name"), validators=[required(), at_most(64)], description=_l(
        "Used in rights; it cannot be changed later. Letters a-z, digits, dot, hyphen or "
        "underscore."))
    title = StringField(GROUP_TITLE, validators=[required(), at_most(255)])
    description = TextAreaField(_l("Description"), validators=[Optional(), at_most(2000)])


class GroupEditForm(FlaskForm):
    title = StringField(GROUP_TITLE, validators=[required(), at_most(255)])
    description = TextAreaField(_l("Description"), validators=[Optional(), at_most(2000)])


class MemberForm(FlaskForm):
    username = StringField(_l("Username"), validators=[required(), at_most(64)])


# -- collections ----------------------------------------------------------------------------

class CollectionForm(FlaskForm):
    slug = StringField(_l("Short name"), validators=[required(), at_most(100)], description=_l(
        "Part of the collection's web address; it cannot be changed later. Letters a-z, "
        "digits and hyphens."))
    title = StringField(_l("Title"), validators=[required(), at_most(255)])
    title_en = StringField(_l("Title in English"), validators=[Optional(), at_most(255)])
    description = TextAreaField(_l("Description"), validators=[Optional(), at_most(5000)])
    parent = choose(_l("Inside"), choices=[], validate_choice=False)


class CollectionEditForm(FlaskForm):
    title = StringField(_l("Title"), validators=[required(), at_most(255)])
    title_en = StringField(_l("Title in English"), validators=[Optional(), at_most(255)])
    description = TextAreaField(_l("Description"), validators=[Optional(), at_most(5000)])
    description_en = TextAreaField(_l("Description in English"),
                                   validators=[Optional(), at_most(5000)])


class MoveForm(FlaskForm):
    parent = choose(_l("New place"), choices=[], validate_choice=False)


# -- reading rooms --------------------------------------------------------------------------

NETWORKS_HINT = _l("One network per line, such as 10.1.2.0/24 or 2001:db8::/48.")


class ReadingRoomForm(FlaskForm):
    name = StringField(_l("Name"), validators=[required(), at_most(128)])
    networks = TextAreaField(_l("Networks"), validators=[Optional(), at_most(20000)],
                             description=NETWORKS_HINT)


class NetworksForm(FlaskForm):
    networks = TextAreaField(_l("Networks"), validators=[Optional(), at_most(20000)],
                             description=NETWORKS_HINT)


# -- the audit log --------------------------------------------------------------------------

class AuditFilter(Form):
    action = StringField(_l("Action"), validators=[Optional(), at_most(64)],
                         description=_l("An action or the start of one, such as rights."))
    actor = StringField(_l("Changed by"), validators=[Optional(), at_most(64)])
    target_type = choose(_l("Kind of target"), choices=[("", ANY), *TARGET_LABELS.items()],
                         default="")
    target = StringField(_l("Target"), validators=[Optional(), at_most(100)],
                         description=_l("A username, group, short name or handle."))
    since = OurDateField(_l("From"), validators=[Optional()])
    until = OurDateField(_l("To"), validators=[Optional()])
