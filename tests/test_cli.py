"""The khoso command: first-run set-up, collections, schema checks."""

from sqlalchemy import func, select

from repository.models import Item, Role, User
from viewer.cli import main
from viewer.extensions import parts


def count(app, model, *where):
    with app.app_context(), parts().db.session() as session:
        return session.scalar(select(func.count(model.id)).where(*where))


def test_setup_twice_creates_one_admin_and_one_demo(app, runner):
    app.config["ADMIN_PASSWORD"] = None
    first = runner.invoke(main, ["setup"])
    assert first.exit_code == 0, first.output
    assert "administrator password (shown once" in first.output
    second = runner.invoke(main, ["setup"])
    assert second.exit_code == 0, second.output
    assert "password" not in second.output
    assert "demo collection already present" in second.output
    assert count(app, User, User.role == Role.ADMIN) == 1
    assert count(app, Item) == 4


def test_setup_takes_the_admin_password_from_configuration(app, runner):
    result = runner.invoke(main, ["setup", "--no-demo"])
    assert result.exit_code == 0, result.output
    assert "admin-password-for-tests" not in result.output
    assert count(app, Item) == 0


def test_collection_create_and_list(runner):
    result = runner.invoke(main, ["collection", "create", "ban-do", "--title", "Bản đồ"])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(main, ["collection", "list"])
    assert "ban-do\tBản đồ" in listed.output


def test_collection_create_explains_a_bad_name(runner):
    result = runner.invoke(main, ["collection", "create", "Bản đồ", "--title", "x"])
    assert result.exit_code == 1
    assert "not a valid short name" in result.output
    assert "Traceback" not in result.output


def test_db_check_passes_on_a_migrated_database(runner):
    result = runner.invoke(main, ["db", "check"])
    assert result.exit_code == 0 and "agree" in result.output


def test_rights_set_and_show(runner):
    runner.invoke(main, ["collection", "create", "ban-do", "--title", "Bản đồ"])
    assert "no rule: staff only" in runner.invoke(
        main, ["rights", "show", "--collection", "ban-do"]).output
    result = runner.invoke(main, ["rights", "set", "--collection", "ban-do", "--metadata", "open",
                                  "--view", "onsite", "--download", "staff",
                                  "--embargo", "2030-01-01", "--watermark", "on"])
    assert result.exit_code == 0, result.output
    shown = runner.invoke(main, ["rights", "show", "--collection", "ban-do"]).output
    assert "view       onsite" in shown and "embargo    2030-01-01" in shown
    assert "watermark  on" in shown


def test_rights_set_explains_mistakes(runner):
    runner.invoke(main, ["collection", "create", "ban-do", "--title", "Bản đồ"])
    both = runner.invoke(main, ["rights", "set", "--collection", "ban-do", "--item", "1"])
    assert both.exit_code == 2 and "exactly one" in both.output
    groups = runner.invoke(main, ["rights", "set", "--collection", "ban-do", "--view", "groups"])
    assert groups.exit_code == 1 and "at least one group" in groups.output
    bad_level = runner.invoke(main, ["rights", "set", "--collection", "ban-do", "--view", "all"])
    assert bad_level.exit_code == 2 and "'all' is not one of" in bad_level.output
