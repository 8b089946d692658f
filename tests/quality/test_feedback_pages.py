"""The feedback pages (issue 12, D8), through the Django test client: the learner's list and survey form (errors keep
what was typed, a thank-you, once only), the stakeholder's page behind a token (any garbage is a clear page), and
the team's pages: surveys with response rates, results with the small-cohort rule (figures computed by hand in
test_feedback.py and checked here as the page shows them), the free-text CSV, closing, the question editor and
stakeholder invitations. The cohort and its answers come from tests/quality/test_feedback.py."""

import datetime as dt
import re
import uuid
from decimal import Decimal as D

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from quality import defaults, feedback
from quality.models import Answer, Audience, Invitation, Question, Response, Survey, SurveyStatus

from ..assessment.conftest import cohort, grant  # noqa: F401  (the cohort fixture)
from ..factories import InvitationFactory, RoleAssignmentFactory, StaffFactory, UserFactory
from . import test_feedback as base
from .test_feedback import THREE, answers, open_survey, submit

pytestmark = pytest.mark.django_db

# The cohort whose edition has ended, the same with its survey answered by three learners, and with it closed
# (fixtures).
ended, answered, closed = base.ended, base.answered, base.closed


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


def flashed(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _token(message) -> str:
    return re.search(r"/feedback/([A-Za-z0-9_-]+)/", message.body).group(1)


@pytest.fixture
def people(ended, world):
    """A team member (not the leader), the lead institution's quality officer, and another institution's one."""
    c = ended
    c.member = StaffFactory(institution=world.ua).user
    grant(c.member, "team_member", c.programme, world.ua)
    c.officer = StaffFactory(institution=world.ua).user
    RoleAssignmentFactory(user=c.officer, role="quality_officer", institution=world.ua)
    c.other_officer = StaffFactory(institution=world.ub).user
    RoleAssignmentFactory(user=c.other_officer, role="quality_officer", institution=world.ub)
    return c


# --- The learner's pages ------------------------------------------------------------------------------------------


def test_my_feedback_says_when_there_is_nothing_and_the_nav_links_to_it(world):
    client = client_for(UserFactory())
    page = client.get(reverse("my-feedback"))
    assert page.status_code == 200
    body = text(page)
    assert "Nothing to answer right now" in body and "You have not been invited to a feedback survey yet" in body
    assert f'href="{reverse("my-feedback")}"' in text(client.get(reverse("dashboard")))
    assert Client().get(reverse("my-feedback")).status_code == 302  # to the login page


def test_my_feedback_lists_open_answered_and_closed_surveys(ended, django_capture_on_commit_callbacks):
    c = ended
    survey = open_survey(django_capture_on_commit_callbacks)
    learner = c.learners[0]
    page = text(client_for(learner).get(reverse("my-feedback")))
    assert "To answer" in page and f'href="/my/feedback/{survey.pk}/"' in page and "Grading" in page
    submit(survey, learner, **THREE[0])
    page = text(client_for(learner).get(reverse("my-feedback")))
    assert "Answered — thank you." in page and "Answer the survey" not in page
    feedback.survey_close(actor=c.leader, survey=survey)
    closed = text(client_for(c.learners[1]).get(reverse("my-feedback")))
    assert "<h2>Closed</h2>" in closed and timezone.localdate().isoformat() in closed
    assert "Answer the survey" not in closed


def test_the_survey_form_is_built_from_the_frozen_questions(ended, django_capture_on_commit_callbacks):
    c = ended
    survey = open_survey(django_capture_on_commit_callbacks)
    page = client_for(c.learners[0]).get(reverse("my-feedback-survey", args=[survey.pk]))
    assert page.status_code == 200
    assert page["Cache-Control"] == "private, no-store"
    body = text(page)
    items = feedback.survey_items(survey)
    overall = next(i for i in items if i.key == "overall")
    hours = next(i for i in items if i.key == "hours_total")
    improve = next(i for i in items if i.key == "improve")
    # Likert: a fieldset with the question as legend and five radios.
    assert re.search(r"<fieldset[^>]*>\s*<legend>Overall, I am satisfied", body)
    assert body.count(f'name="{overall.name}"') == 5 and 'type="radio"' in body
    assert "5 — strongly agree" in body and "1 — strongly disagree" in body
    assert re.search(rf'<input type="number" name="{hours.name}"[^>]*min="0"', body)
    assert f'<textarea name="{improve.name}"' in body
    # Per-course questions: once per course of the curriculum (A, B and the elective E).
    quality = [i for i in items if i.key == "course_quality"]
    assert [i.course for i in quality] == ["A Course A", "B Course B", "E Elective E"]
    for item in quality:
        assert body.count(f'name="{item.name}"') == 5
    assert body.count("This course was of good quality.") == 1  # the question once, as the legend of its group
    # What anonymous means, said on the page.
    assert "Your answers are anonymous" in body and "without the time you answered" in body
    assert "at least 3 people answered" in body
    # The frozen questions: an edit of the programme's set does not change the open survey's page.
    question_set = feedback.question_set_ensure(programme=c.programme)
    feedback.question_update(actor=c.leader, question=question_set.questions.get(key="overall"),
                             data={"text": "A brand-new wording."})
    assert "A brand-new wording." not in text(client_for(c.learners[0]).get(
        reverse("my-feedback-survey", args=[survey.pk])))


def test_only_invited_learners_see_the_survey_and_a_stranger_learns_nothing(ended, world,
                                                                           django_capture_on_commit_callbacks):
    c = ended
    survey = open_survey(django_capture_on_commit_callbacks)
    url = reverse("my-feedback-survey", args=[survey.pk])
    for stranger in (UserFactory(), c.leader, world.people["CA_admin"]):
        page = client_for(stranger).get(url)
        assert page.status_code == 404
        assert "You were not invited to this survey." in text(page) and "Grading" not in text(page)
        assert client_for(stranger).post(url, {}).status_code == 404
    assert client_for(c.learners[0]).get(reverse("my-feedback-survey", args=[uuid.uuid4()])).status_code == 404
    assert Client().get(url).status_code == 302
    stakeholder_survey = feedback.stakeholder_survey_open(actor=c.leader, programme=c.programme)
    assert client_for(c.learners[0]).get(reverse("my-feedback-survey",
                                                 args=[stakeholder_survey.pk])).status_code == 404


def test_the_survey_page_is_where_the_emails_link():
    pk = uuid.uuid4()
    assert reverse("my-feedback-survey", args=[pk]) == feedback.LEARNER_SURVEY_PATH.format(survey_id=pk)


def test_errors_keep_what_was_typed_and_save_nothing(ended, django_capture_on_commit_callbacks):
    c = ended
    survey = open_survey(django_capture_on_commit_callbacks)
    items = {i.key: i for i in feedback.survey_items(survey) if i.course_id is None}
    url = reverse("my-feedback-survey", args=[survey.pk])
    page = client_for(c.learners[0]).post(url, {
        items["outcomes_achieved"].name: "4", items["hours_total"].name: "12.5",
        items["improve"].name: "Keep my words <b>safe</b>", items["worked_well"].name: "x" * 2001})
    assert page.status_code == 200
    body = text(page)
    assert "nothing is saved yet" in body
    assert "Answer this question." in body  # overall is required
    assert "Enter whole hours from 0 to 2000." in body
    assert "Write at most 2000 characters (this has 2001)." in body
    assert "Keep my words &lt;b&gt;safe&lt;/b&gt;</textarea>" in body  # kept, escaped
    # Each error is named in its input's (or radio group's) aria-describedby, after the help text.
    hours, worked_well, overall = (f"id_{items[key].name}" for key in ("hours_total", "worked_well", "overall"))
    assert re.search(rf'<input type="number" name="{items["hours_total"].name}"[^>]*'
                     rf'aria-describedby="{hours}_helptext {hours}_error"', body)
    assert re.search(rf'<textarea name="{items["worked_well"].name}"[^>]*aria-describedby="[^"]*{worked_well}_error"',
                     body)
    assert re.search(rf'<fieldset[^>]*aria-describedby="[^"]*{overall}_error"', body)
    for field_id in (hours, worked_well, overall):
        assert body.count(f'id="{field_id}_error"') == 1
    assert re.search(rf'<div id="{hours}_error"><p class="error">Enter whole hours from 0 to 2000.</p></div>', body)
    assert re.search(rf'name="{items["outcomes_achieved"].name}" value="4"[^>]*checked', body)
    assert f'href="#id_{items["overall"].name}_0"' in body  # the summary links to the first radio
    assert not Response.objects.exists() and not Invitation.objects.filter(answered=True).exists()
    # A rating off the scale (a forged post) is refused as well.
    forged = client_for(c.learners[0]).post(url, {items["overall"].name: "7", items["outcomes_achieved"].name: "4"})
    assert "Choose a rating from 1 to 5." in text(forged) and not Response.objects.exists()


def test_a_learner_answers_once_gets_a_thank_you_and_a_second_submit_is_refused(ended,
                                                                                 django_capture_on_commit_callbacks):
    c = ended
    survey = open_survey(django_capture_on_commit_callbacks)
    learner = c.learners[0]
    url = reverse("my-feedback-survey", args=[survey.pk])
    data = {name: str(value) for name, value in answers(survey, **THREE[0]).items()}
    done = client_for(learner).post(url, data)
    assert done.status_code == 302 and done["Location"] == url
    assert flashed(done) == ["Thank you: your answers are saved, anonymously."]
    response = Response.objects.get()
    assert response.answers.count() == 11
    overall = next(i for i in feedback.survey_items(survey) if i.key == "overall")
    assert Answer.objects.get(question_id=overall.question_id).rating == 5
    assert Answer.objects.get(number__isnull=False).number == 140
    page = text(client_for(learner).get(url))
    assert "You have answered this survey" in page and "<form method=\"post\" class=\"form\"" not in page
    again = client_for(learner).post(url, data)
    assert again.status_code == 302
    assert flashed(again) == ["You have already answered this survey: each person answers once."]
    assert Response.objects.count() == 1 and Answer.objects.count() == 11


def test_a_closed_survey_says_so_and_refuses_answers(ended, django_capture_on_commit_callbacks):
    c = ended
    survey = open_survey(django_capture_on_commit_callbacks)
    feedback.survey_close(actor=c.leader, survey=survey)
    url = reverse("my-feedback-survey", args=[survey.pk])
    page = text(client_for(c.learners[0]).get(url))
    assert "This survey closed on" in page and "Send my answers" not in page
    refused = client_for(c.learners[0]).post(url, answers(survey, overall=4, outcomes_achieved=4))
    assert refused.status_code == 302 and "This survey closed on" in flashed(refused)[0]
    assert not Response.objects.exists()


# --- The stakeholder's page ----------------------------------------------------------------------------------------


@pytest.fixture
def stakeholders(ended, django_capture_on_commit_callbacks):
    c = ended
    c.stakeholder_survey = feedback.stakeholder_survey_open(actor=c.leader, programme=c.programme)
    with django_capture_on_commit_callbacks(execute=True):
        feedback.stakeholders_invite(actor=c.leader, survey=c.stakeholder_survey,
                                     emails="boss@employer.example, hr@partner.example")
    c.tokens = {m.to[0]: _token(m) for m in mail.outbox}
    return c


def test_a_stakeholder_answers_through_the_link_once_without_an_account(stakeholders):
    c = stakeholders
    token = c.tokens["boss@employer.example"]
    url = reverse("feedback-token", args=[token])
    assert url == feedback.STAKEHOLDER_SURVEY_PATH.format(token=token)
    client = Client()
    page = client.get(url)
    assert page.status_code == 200 and page["Referrer-Policy"] == "same-origin"
    body = text(page)
    assert "Your view of Grading" in body and "without your email address" in body
    items = {i.key: i.name for i in feedback.survey_items(c.stakeholder_survey)}
    refused = client.post(url, {items["missing_skills"]: "Verification"})
    assert "Answer this question." in text(refused) and "Verification</textarea>" in text(refused)
    done = client.post(url, {items["outcomes_relevant"]: "4", items["missing_skills"]: "Verification"})
    assert done.status_code == 302 and flashed(done) == ["Thank you: your answers are saved, anonymously."]
    assert "You have answered this survey" in text(client.get(url))
    assert Invitation.objects.get(email="boss@employer.example").answered
    assert client.post(url, {items["outcomes_relevant"]: "2"}).status_code == 302
    assert Response.objects.filter(survey=c.stakeholder_survey).count() == 1


@pytest.mark.parametrize("token", ["x", "not-a-token", "a" * 199, "a" * 201, "b" * 5000, "%00", "ü€😀", "..",
                                   "' OR 1=1 --"])
def test_unknown_tokens_of_any_shape_get_a_clear_page(stakeholders, token):
    client = Client(raise_request_exception=False)
    for method in ("get", "post"):
        page = getattr(client, method)(f"/feedback/{token}/")
        assert page.status_code == 404, (method, token)
        assert "This survey link is not valid" in text(page)


def test_a_renewed_link_replaces_the_old_one_and_a_closed_survey_says_so(stakeholders,
                                                                         django_capture_on_commit_callbacks):
    c = stakeholders
    hr = Invitation.objects.get(email="hr@partner.example")
    mail.outbox.clear()
    with_leader = client_for(c.leader)
    with django_capture_on_commit_callbacks(execute=True):
        renew = with_leader.post(reverse("stakeholder-invitation-renew", args=[hr.pk]))
    assert renew.status_code == 302
    assert renew["Location"] == reverse("stakeholder-invitations", args=[c.stakeholder_survey.pk])
    assert "A new link is on its way" in flashed(renew)[0]
    new_token = _token(mail.outbox[0])
    assert Client().get(reverse("feedback-token", args=[c.tokens["hr@partner.example"]])).status_code == 404
    assert Client().get(reverse("feedback-token", args=[new_token])).status_code == 200
    feedback.survey_close(actor=c.leader, survey=c.stakeholder_survey)
    closed = Client().get(reverse("feedback-token", args=[new_token]))
    assert closed.status_code == 200 and "This survey closed on" in text(closed)
    refused = with_leader.post(reverse("stakeholder-invitation-renew", args=[hr.pk]))
    assert "This survey closed on" in flashed(refused)[-1]


# --- The team's pages ----------------------------------------------------------------------------------------------


def test_the_surveys_page_shows_rates_and_offers_actions_to_managers_only(answered, people):
    c = answered
    url = reverse("quality-surveys", args=[c.programme.pk])
    for user in (c.leader, c.officer):
        body = text(client_for(user).get(url))
        assert "Learners of 2026" in body and "75.0 %" in body  # 3 answered of 4 invited
        assert reverse("stakeholder-survey-open", args=[c.programme.pk]) in body
        assert "Edit the learner questions" in body
    member = client_for(c.member).get(url)
    assert member.status_code == 200 and "75.0 %" in text(member)
    assert reverse("stakeholder-survey-open", args=[c.programme.pk]) not in text(member)
    assert "Edit the learner questions" not in text(member)
    for outsider in (c.other_officer, UserFactory()):
        assert client_for(outsider).get(url).status_code == 404


def test_the_surveys_page_reads_one_page_of_surveys_at_a_time_each_with_its_rate(answered):
    c = answered
    now = timezone.now()
    for i in range(20):  # older closed stakeholder surveys, newest first after the learner survey
        opened = now - dt.timedelta(days=400 + i)
        old = Survey.objects.create(programme=c.programme, audience=Audience.STAKEHOLDER, status=SurveyStatus.CLOSED,
                                    opened_at=opened, closes_at=opened + dt.timedelta(days=21),
                                    closed_at=opened + dt.timedelta(days=21))
        InvitationFactory(survey=old, learner=None, email=f"s{i}@firm.example", answered=i == 19,
                          answered_on=opened.date() if i == 19 else None)
        if i == 19:
            InvitationFactory(survey=old, learner=None, email="t19@firm.example")
    url = reverse("quality-surveys", args=[c.programme.pk])
    with CaptureQueriesContext(connection) as queries:
        first = client_for(c.leader).get(url)
    counted = [q["sql"] for q in queries.captured_queries if 'AS "invited"' in q["sql"]]
    assert counted and all("LIMIT 20" in sql for sql in counted)  # the page's rows only, counted by the database
    assert len(first.context["object_list"]) == 20 and first.context["page_obj"].paginator.count == 21
    rates = [s.rate for s in first.context["object_list"]]
    assert rates[0] == D("75.0") and rates[1:] == [D("0.0")] * 19  # 3 of 4; 0 of 1
    assert "75.0 %" in text(first) and "50.0 %" not in text(first)
    second = client_for(c.leader).get(url, {"page": 2})
    [oldest] = second.context["object_list"]
    assert (oldest.invited, oldest.answered, oldest.rate) == (2, 1, D("50.0")) and "50.0 %" in text(second)


def test_the_surveys_page_has_an_empty_state(ended):
    body = text(client_for(ended.leader).get(reverse("quality-surveys", args=[ended.programme.pk])))
    assert "No survey yet." in body


def test_the_results_page_shows_the_figures_computed_by_hand_and_hides_the_small_groups(closed,
                                                                                       django_assert_max_num_queries):
    c = closed
    url = reverse("survey-results", args=[c.survey.pk])
    client = client_for(c.leader)
    client.get(url)
    with django_assert_max_num_queries(25):
        page = client.get(url)
    assert page.status_code == 200
    body = text(page)
    assert "75.0 %" in body and "<dd>4</dd>" in body and "<dd>3</dd>" in body  # invited, answered
    # overall: 5, 4, 3 → 4.00; outcomes 4, 4, 5 → 4.33.
    assert "Mean rating 4.00 out of 5, from 3 respondents." in body
    assert "Mean rating 4.33 out of 5, from 3 respondents." in body
    # Course quality over A, B, E: 33 / 9 = 3.67; per partner UB (B and E) 21 / 6 = 3.50.
    assert "Mean rating 3.67 out of 5, from 9 ratings of the courses shown below by 3 respondents." in body
    assert "<td>3.50</td>" in body
    # Teaching of course B: one respondent, hidden, and left out of UB's and the overall figure.
    assert "Hidden: fewer than 3 respondents." in body
    assert "because fewer than 3 people rated them: B Course B." in body
    assert "Why some figures are hidden" in body
    # Charts: SVG with a title, and the data table beside.
    # overall, outcomes; course quality and teaching: all, per course, per partner; workload (the rest: no answers)
    assert body.count('<svg role="img"') == 9
    assert "<title id=\"chart-" in body and "Answers per rating: Overall, I am satisfied" in body
    assert "<caption>Answers per rating</caption>" in body
    # Workload: 6 ECTS = 150–180 h; 140 below, 170 within, 200 above; mean 170.0.
    assert "notional workload of 150 to 180 hours" in body and "Reported on average: 170.0 hours" in body
    assert re.search(r"<th scope=\"row\">150–180 h</th><td>1</td>", body)
    # Free texts: the three comments on course A (shown); "improve" had two answers (hidden).
    assert "Great labs" in body and "Too fast" in body
    assert "More live sessions" not in body and "Clearer deadlines" not in body
    assert reverse("survey-free-text", args=[c.survey.pk]) in body
    assert "Figures appear when the survey closes" not in body


def test_an_open_survey_results_page_gives_the_rate_and_when_figures_appear(answered, people):
    """The same answers while the survey is open: the response rate, and a date, for everybody who sees the page."""
    c = answered
    url = reverse("survey-results", args=[c.survey.pk])
    closes = timezone.localtime(c.survey.closes_at).strftime("%Y-%m-%d %H:%M")
    for user in (c.leader, c.officer, c.member):
        page = client_for(user).get(url)
        assert page.status_code == 200
        body = text(page)
        assert "75.0 %" in body and "<dd>4</dd>" in body and "<dd>3</dd>" in body  # invited, answered
        assert "No figures while the survey is open" in body
        assert f"Figures appear when the survey closes on {closes}." in body
        assert "Mean rating" not in body and "4.00" not in body and "<svg role=\"img\"" not in body
        assert "Great labs" not in body and "Reported on average" not in body
        assert reverse("survey-free-text", args=[c.survey.pk]) not in body
    # Closing it shows them.
    client_for(c.leader).post(reverse("survey-close", args=[c.survey.pk]))
    body = text(client_for(c.member).get(url))
    assert "Mean rating 4.00 out of 5, from 3 respondents." in body and "Great labs" in body
    assert "No figures while the survey is open" not in body


def test_the_results_page_localises_text_but_not_the_chart_coordinates(closed):
    c = closed
    client = client_for(c.leader)
    client.cookies["django_language"] = "de"
    body = text(client.get(reverse("survey-results", args=[c.survey.pk]), HTTP_ACCEPT_LANGUAGE="de"))
    assert '<html lang="de">' in body and "4,00" in body  # the mean, written the German way…
    coordinates = re.findall(r'<rect x="([^"]+)" y="([^"]+)" width="([^"]+)"', body)
    assert coordinates and all("," not in value for triple in coordinates for value in triple)  # …not the SVG


def test_a_stakeholder_survey_results_page_leads_to_its_invitations(stakeholders, django_capture_on_commit_callbacks):
    c = stakeholders
    items = {i.key: i.name for i in feedback.survey_items(c.stakeholder_survey)}
    Client().post(reverse("feedback-token", args=[c.tokens["boss@employer.example"]]),
                  {items["outcomes_relevant"]: "5", items["missing_skills"]: "Design for test"})
    url = reverse("survey-results", args=[c.stakeholder_survey.pk])
    body = text(client_for(c.leader).get(url))
    assert "Stakeholder feedback on Grading" in body and "50.0 %" in body  # 1 of 2 answered
    assert reverse("stakeholder-invitations", args=[c.stakeholder_survey.pk]) in body
    assert reverse("stakeholder-invite", args=[c.stakeholder_survey.pk]) in body
    assert "Figures appear when the survey closes on" in body and "Design for test" not in body
    assert "Workload reported against the ECTS" not in body
    feedback.survey_close(actor=c.leader, survey=c.stakeholder_survey)
    body = text(client_for(c.leader).get(url))
    assert "Too few responses to show (fewer than 3)" in body and "Design for test" not in body
    assert reverse("stakeholder-invite", args=[c.stakeholder_survey.pk]) not in body


def test_a_team_member_sees_results_but_cannot_close_and_a_manager_closes(answered, people):
    c = answered
    close = reverse("survey-close", args=[c.survey.pk])
    assert client_for(c.member).get(reverse("survey-results", args=[c.survey.pk])).status_code == 200
    assert "Close the survey now" not in text(client_for(c.member).get(reverse("survey-results",
                                                                               args=[c.survey.pk])))
    assert client_for(c.member).post(close).status_code == 403
    assert client_for(c.other_officer).post(close).status_code == 404
    assert client_for(c.leader).get(close).status_code == 405
    done = client_for(c.officer).post(close)
    assert done.status_code == 302 and done["Location"] == reverse("survey-results", args=[c.survey.pk])
    assert flashed(done) == ["The survey is closed: answers are no longer accepted."]
    assert Survey.objects.get(pk=c.survey.pk).status == SurveyStatus.CLOSED
    again = client_for(c.officer).post(close)
    assert flashed(again) == ["This survey is closed already."]


def test_the_free_text_csv_is_a_private_download_without_times(closed, people):
    c = closed
    url = reverse("survey-free-text", args=[c.survey.pk])
    response = client_for(c.member).get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Cache-Control"] == "private, no-store"
    assert 'filename="feedback-grading-2026-free-text.csv"' in response["Content-Disposition"]
    rows = response.content.decode("utf-8-sig").splitlines()
    assert rows[0] == "Question,Course,Partner,Answer" and len(rows) == 4
    assert "'=HYPERLINK" in response.content.decode()  # the formula is neutralised
    assert not re.search(r"\d{4}-\d{2}-\d{2}", response.content.decode())
    assert client_for(c.other_officer).get(url).status_code == 404


def test_the_free_text_csv_of_an_open_survey_sends_back_to_the_results_with_a_message(answered, people,
                                                                                   stakeholders):
    c = answered
    for survey in (c.survey, c.stakeholder_survey):
        refused = client_for(c.member).get(reverse("survey-free-text", args=[survey.pk]))
        assert refused.status_code == 302 and refused["Location"] == reverse("survey-results", args=[survey.pk])
        [message] = flashed(refused)
        closes = timezone.localtime(survey.closes_at).strftime("%Y-%m-%d %H:%M")
        assert message.startswith(f"Figures appear when the survey closes on {closes}.")
        assert "Great labs" not in message


# --- The question editor -------------------------------------------------------------------------------------------


def test_the_question_editor_lists_adds_edits_moves_and_removes(ended):
    c = ended
    client = client_for(c.leader)
    url = reverse("quality-questions", args=[c.programme.pk, "learner"])
    page = text(client.get(url))
    assert f"{len(defaults.LEARNER)} questions, in the order asked" in page
    assert "Overall, I am satisfied" in page and "Add a question" in page
    # Refused input keeps what was typed.
    refused = client.post(url, {"text": "Per course and required", "kind": "likert", "theme": "teaching",
                                "per_course": "on", "required": "on"})
    assert refused.status_code == 200 and "cannot be required" in text(refused)
    assert "Per course and required</textarea>" in text(refused)
    added = client.post(url, {"text": "The labs were useful.", "kind": "likert", "theme": "teaching"})
    assert added.status_code == 302 and added["Location"] == url
    question = Question.objects.get(text="The labs were useful.")
    assert question.position == len(defaults.LEARNER)
    edit = reverse("question-edit", args=[question.pk])
    assert 'value="The labs were useful."' in text(client.get(edit)) or "The labs were useful.</textarea>" in text(
        client.get(edit))
    assert client.post(edit, {"text": "The online labs were useful.", "kind": "likert", "theme": "teaching"}
                       ).status_code == 302
    question.refresh_from_db()
    assert question.text == "The online labs were useful."
    moved = client.post(reverse("question-move", args=[question.pk]), {"direction": "up"})
    assert moved.status_code == 302 and moved["Location"] == url
    keys = list(question.question_set.questions.values_list("key", flat=True))
    assert keys[-1] == "improve" and keys[-2] == question.key
    top = question.question_set.questions.get(key="overall")
    refused = client.post(reverse("question-move", args=[top.pk]), {"direction": "up"})
    assert flashed(refused)[-1] == "This question is the first one already."
    bad = client.post(reverse("question-move", args=[top.pk]), {"direction": "sideways"})
    assert flashed(bad)[-1] == "Choose whether to move the question up or down."
    removed = client.post(reverse("question-remove", args=[question.pk]))
    assert removed.status_code == 302 and removed["Location"] == url
    assert not Question.objects.filter(pk=question.pk).exists()
    assert [p for p in question.question_set.questions.values_list("position", flat=True)] == list(
        range(len(defaults.LEARNER)))


def test_the_stakeholder_editor_has_no_per_course_and_unknown_audiences_are_404(ended):
    c = ended
    client = client_for(c.leader)
    page = text(client.get(reverse("quality-questions", args=[c.programme.pk, "stakeholder"])))
    assert "Questions for stakeholders" in page and 'name="per_course"' not in page
    assert client.get(reverse("quality-questions", args=[c.programme.pk, "everyone"])).status_code == 404


def test_a_team_member_reads_the_questions_but_cannot_change_them(ended, people):
    c = ended
    member = client_for(c.member)
    url = reverse("quality-questions", args=[c.programme.pk, "learner"])
    page = member.get(url)
    assert page.status_code == 200 and "Add a question" not in text(page) and "Overall, I am satisfied" in text(page)
    assert member.post(url, {"text": "Sneaky", "kind": "text", "theme": "general"}).status_code == 403
    question = feedback.question_set_ensure(programme=c.programme).questions.first()
    for name, data in (("question-edit", {"text": "x", "kind": "text", "theme": "general"}), ("question-remove", {}),
                       ("question-move", {"direction": "down"})):
        assert member.post(reverse(name, args=[question.pk]), data).status_code == 403
    assert not Question.objects.filter(text__in=["Sneaky", "x"]).exists()
    assert client_for(c.other_officer).get(url).status_code == 404
    officer = client_for(c.officer)
    assert officer.post(url, {"text": "From the QA office", "kind": "text", "theme": "general"}).status_code == 302


# --- Stakeholder surveys: opening and inviting ---------------------------------------------------------------------


def test_opening_a_stakeholder_survey_and_inviting_reports_who_was_invited(ended, django_capture_on_commit_callbacks):
    c = ended
    client = client_for(c.leader)
    open_url = reverse("stakeholder-survey-open", args=[c.programme.pk])
    assert "Open a stakeholder survey" in text(client.get(open_url))
    past = client.post(open_url, {"closes_on": "2000-01-01"})
    assert "Choose a day after today." in text(past) and not Survey.objects.exists()
    far = client.post(open_url, {"closes_on": "9999-12-31"})
    assert "within a year" in text(far) and not Survey.objects.exists()
    opened = client.post(open_url, {"closes_on": ""})
    survey = Survey.objects.get(audience=Audience.STAKEHOLDER)
    invite = reverse("stakeholder-invite", args=[survey.pk])
    assert opened.status_code == 302 and opened["Location"] == invite
    assert (survey.closes_at - survey.opened_at).days == 21
    again = client.post(open_url, {})
    assert "already has an open stakeholder survey" in text(again)
    # One bad address refuses the lot, names it, keeps the text and sends nothing.
    typed = "boss@employer.example\nnot-an-address"
    refused = client.post(invite, {"emails": typed})
    assert "not-an-address is not an email address." in text(refused) and "boss@employer.example\nnot-an-address" in (
        text(refused))
    assert not Invitation.objects.exists() and not mail.outbox
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(invite, {"emails": "boss@employer.example; hr@partner.example"})
    assert done.status_code == 302 and done["Location"] == reverse("stakeholder-invitations", args=[survey.pk])
    assert flashed(done) == ["2 invited; the emails are on their way."]
    assert sorted(m.to[0] for m in mail.outbox) == ["boss@employer.example", "hr@partner.example"]
    with django_capture_on_commit_callbacks(execute=True):
        twice = client.post(invite, {"emails": "HR@partner.example, new@firm.example"})
    messages_ = flashed(twice)[-2:]  # (the first call's message is still waiting: no page was shown in between)
    assert messages_[0] == "1 invited; the emails are on their way."
    assert messages_[1].startswith("Invited before, so not sent again: hr@partner.example.")
    listing = text(client.get(reverse("stakeholder-invitations", args=[survey.pk])))
    assert "boss@employer.example" in listing and "new@firm.example" in listing and "not yet" in listing
    found = text(client.get(reverse("stakeholder-invitations", args=[survey.pk]), {"q": "firm"}))
    assert "new@firm.example" in found and "boss@employer.example" not in found
    assert "No invitation matches this search." in text(client.get(
        reverse("stakeholder-invitations", args=[survey.pk]), {"q": "zzz"}))


def test_learner_surveys_have_no_invitation_pages(answered):
    c = answered
    client = client_for(c.leader)
    for name in ("stakeholder-invite", "stakeholder-invitations"):
        assert client.get(reverse(name, args=[c.survey.pk])).status_code == 404
    learner_invitation = Invitation.objects.filter(survey=c.survey).first()
    refused = client.post(reverse("stakeholder-invitation-renew", args=[learner_invitation.pk]))
    assert refused.status_code == 302 and "has no email address" in flashed(refused)[0]


def test_a_team_member_cannot_open_or_invite(ended, people):
    c = ended
    member = client_for(c.member)
    assert member.get(reverse("stakeholder-survey-open", args=[c.programme.pk])).status_code == 403
    survey = feedback.stakeholder_survey_open(actor=c.leader, programme=c.programme)
    assert member.post(reverse("stakeholder-invite", args=[survey.pk]), {"emails": "x@example.org"}).status_code == 403
    assert member.get(reverse("stakeholder-invitations", args=[survey.pk])).status_code == 200
    assert not Invitation.objects.exists()
