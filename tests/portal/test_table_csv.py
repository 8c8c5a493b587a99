"""Any table in the portal exports to CSV: the page's Nth table, all rows of a paginated list,
what the reader may see and nothing more, formula-safe."""

import csv
import io

import pytest

from portal.tables import tables_in_main
from tests.experiments.factories import make_experiment
from tests.factories import UserFactory
from tests.research.factories import ParticipantFactory

pytestmark = pytest.mark.django_db


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_parser_reads_tables_inside_main_only_with_nested_tables_apart():
    html = """<table><tr><td>nav</td></tr></table>
    <main><table><caption>hidden</caption><thead><tr><th>Name</th><th>Score</th></tr></thead>
    <tbody><tr><td><a href="/x">Alpha</a><br><code>a-1</code></td><td> 3 </td></tr>
    <tr><td>Beta<script>evil()</script></td><td><table><tr><td>inner</td></tr></table>4</td></tr></tbody></table>
    </main><table><tr><td>footer</td></tr></table>"""
    outer, inner = tables_in_main(html)
    assert outer == [["Name", "Score"], ["Alpha a-1", "3"], ["Beta", "4"]]
    assert inner == [["inner"]]


def test_a_paginated_list_exports_every_row_not_one_page(client, pm, product):
    for i in range(30):  # the experiment library shows 25 a page
        make_experiment(by=pm, product=product, key=f"csv-{i}", name=f"Export check {i:02d}")
    make_experiment(by=pm, product=product, key="csv-formula", name='=HYPERLINK("http://evil")')
    client.force_login(pm)
    page = client.get("/experiments/")
    assert page.content.decode().count("Export check") < 30  # one page of 25
    rows = _csv(client.get("/experiments/?format=csv&table=0&page=2"))
    assert rows[0][:3] == ["Experiment", "Product", "Status"]
    names = [r[0] for r in rows[1:]]
    assert len(names) == 31
    assert sum(n.startswith("Export check") for n in names) == 30
    assert any(n.startswith("'=HYPERLINK") for n in names)  # neutralised for spreadsheets


def test_the_export_masks_personal_data_exactly_like_the_page(client):
    ParticipantFactory(name="Zebulon Privatename", email="zebulon@example.org")
    pm_user = UserFactory(role="pm")
    client.force_login(pm_user)
    body = b"".join(client.get("/research/participants/?format=csv&table=0").streaming_content).decode()
    assert "Zebulon" not in body and "zebulon@example.org" not in body
    assert len(body.splitlines()) >= 2  # the participant is listed, under a pseudonym
    researcher = UserFactory(role="researcher")
    client.force_login(researcher)
    body = b"".join(client.get("/research/participants/?format=csv&table=0").streaming_content).decode()
    assert "Zebulon Privatename" in body


def test_bad_table_numbers_get_a_clear_error(client, pm):
    client.force_login(pm)
    missing = client.get("/experiments/?format=csv&table=7")
    assert missing.status_code == 404
    assert "there is no table number 7" in missing.content.decode()
    bad = client.get("/experiments/?format=csv&table=-1")
    assert bad.status_code == 400
    assert "table must be a table number" in bad.content.decode()


def test_views_with_their_own_csv_keep_it(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/audit/?format=csv&table=0")
    assert _csv(response)[0][:3] == ["at_utc", "actor", "action"]
