"""`metacrm tags ...` and `metacrm segment ...` over the standard pack."""

import json


def test_tags_and_segments_commands(run):
    run("metadata", "apply", "metadata")
    lead = json.loads(run("record", "create", "lead", json.dumps(
        {"name": "王伟", "city": "shanghai", "score": 90})).output)
    out = json.loads(run("tags", "add", "lead", lead["id"], "vip", "price_sensitive").output)
    assert out == {"changed": ["vip", "price_sensitive"], "tags": ["hot_lead", "price_sensitive", "vip"]}
    assert json.loads(run("tags", "show", "lead", lead["id"]).output) == ["hot_lead", "price_sensitive", "vip"]
    assert "automatic" in run("tags", "add", "lead", lead["id"], "hot_lead", code=2).output
    listing = run("tags", "list", "--object", "lead").output
    assert any(line.split()[:2] == ["lead", "hot_lead"] and line.split()[-1] == "1" for line in listing.splitlines())
    assert "tag      lead           hot_lead                 +0 -0" in run("tags", "recompute", "--object", "lead").output
    assert run("segment", "count", "hot_leads_tier1").output.strip() == "1"
    assert run("segment", "count", "price_sensitive_leads").output.strip() == "1"
    assert json.loads(run("segment", "list", "hot_leads_tier1").output)["id"] == lead["id"]
    assert run("segment", "has", "hot_leads_tier1", lead["id"]).output.strip() == "true"
    run("tags", "remove", "lead", lead["id"], "vip")
    assert run("segment", "count", "hot_leads_tier1").output.strip() == "1"  # the rule reads hot_lead, not vip
    run("record", "update", "lead", lead["id"], json.dumps({"score": 10}))
    assert run("segment", "has", "hot_leads_tier1", lead["id"], code=1).output.strip() == "false"
    assert "new_leads_untouched" in run("segment", "ls").output
    assert "entered 0" in run("segment", "refresh", "new_leads_untouched").output
    assert "no segment named" in run("segment", "count", "nope", code=2).output
