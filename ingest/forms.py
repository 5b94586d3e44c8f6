"""The forms of the staff ingest pages: the upload, one Dublin Core statement, the description."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import FieldList, FormField, HiddenField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from repository.dublin_core import DISPLAY_ORDER


def options(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class UploadForm(FlaskForm):
    collection = SelectField(_l("Collection"), validators=[InputRequired()])
    files = MultipleFileField(
        _l("Files"), validators=[InputRequired(_l("Choose at least one file."))],
        description=_l("Page images (TIFF, JPEG, PNG, JPEG 2000), PDFs, or a ZIP file holding "
                       "folders of pages, a CSV manifest, DSpace SAF packages or BagIt bags."))
    layout = RadioField(_l("The files are"), default="items", choices=options([
        ("items", _l("separate items (one item per file; a ZIP as its contents say)")),
        ("pages", _l("the pages of one item, in the order of their names"))]))
    title = StringField(_l("Title of that item"), validators=[Optional(), Length(max=500)],
                        description=_l("Only for pages of one item; the first file's name "
                                       "otherwise."))
    manifest = FileField(_l("CSV manifest (optional)"),
                         description=_l("One row per item: a file column and Dublin Core "
                                        "columns such as dc.title, dc.creator, dc.date."))
    languages = SelectField(_l("Text language"), default="vie", choices=options([
        ("vie", _l("Vietnamese")), ("vie+eng", _l("Vietnamese and English")),
        ("eng", _l("English")), ("vie+fra", _l("Vietnamese and French"))]))


class StatementForm(FlaskForm):
    class Meta:
        csrf = False  # one row of the description form, which carries the token

    element = SelectField(_l("Element"), choices=options(
        [("", ""), *((name, name) for name in DISPLAY_ORDER)]))
    qualifier = StringField(_l("Qualifier"), validators=[Optional(), Length(max=64)])
    language = StringField(_l("Language"), validators=[Optional(), Length(max=16)])
    value = StringField(_l("Value"), validators=[Optional(), Length(max=100_000)])


class MetadataForm(FlaskForm):
    rows = FieldList(FormField(StatementForm), min_entries=1)


class AcceptForm(FlaskForm):
    index = HiddenField(validators=[InputRequired()])


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""
