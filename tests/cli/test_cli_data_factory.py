"""`metacrm import / imports / export / dedupe` over the shipped sample file (the README walkthrough)."""


from openpyxl import load_workbook


def test_readme_walkthrough(run, tmp_path):
    run("init")
    run("metadata", "apply", "metadata")
    errors = tmp_path / "errors.xlsx"
    out = run("import", "samples/leads_sample.xlsx", "--object", "lead", "--errors", errors, "--language", "zh").output
    assert "42/42 rows, 35 created, 5 failed, 2 skipped as duplicates, 0 merged, 2 flagged" in out
    book = load_workbook(errors)
    sheet = book.active
    assert sheet.max_row == 6 and sheet.cell(1, sheet.max_column).value == "错误"
    sheet["A2"], sheet["B3"], sheet["C4"], sheet["F5"], sheet["H6"] = "钱七", "13912345679", "zq@example.com", "杭州", 99
    book.save(tmp_path / "fixed.xlsx")
    assert "5 created, 0 failed" in run("import", tmp_path / "fixed.xlsx", "--object", "lead").output
    again = run("import", "samples/leads_sample.xlsx", "--object", "lead").output
    # only written rows count as imported: the 5 failed rows are tried again (and fail again)
    assert "0 created, 5 failed, 2 skipped as duplicates" in again and "35 already imported" in again
    assert "37 skipped" in run("import", "samples/leads_sample_gb18030.csv", "--object", "lead").output
    review = run("dedupe", "review", "lead").output
    assert review.startswith("2 pending") and "刘晓芳" in review
    assert '"merged_ids"' in run("dedupe", "merge", "1").output
    run("dedupe", "dismiss", "2")
    assert "0 new for review" in run("dedupe", "scan", "lead").output
    run("dedupe", "undo", "1")
    assert "1 pending" in run("dedupe", "review", "lead").output
    assert "40 record(s)" in run("export", "lead", tmp_path / "leads.csv", "--language", "zh", "--hide", "phone").output
    assert "手机号" not in (tmp_path / "leads.csv").read_text(encoding="utf-8-sig")
    assert "import 1 done" in run("imports", "list").output
    run("imports", "save-template", "booth", "--object", "lead", "--mapping", '{"姓名": "name"}')
    assert '"booth"' in run("imports", "templates").output
    run("dedupe", "undo", "1", code=2)  # already undone: a clear error, not a traceback


def test_import_says_when_a_time_of_day_was_dropped(run, tmp_path):
    """A date field fed date-times keeps the date; the CLI says so per column (issue 23)."""
    run("init")
    run("metadata", "apply", "metadata")
    src = tmp_path / "follow_ups.csv"
    src.write_text("Name,Next follow-up\nWang Fang,2026-12-04 15:30\nLi Lei,2026-12-05\n", encoding="utf-8")
    out = run("import", src, "--object", "lead").output
    assert "2 created, 0 failed" in out
    assert "note: 1 value(s) of 'Next follow-up' had a time of day; the date field 'next_follow_up' keeps the date only" in out
