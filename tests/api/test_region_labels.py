"""Region values read as names in the caller's language (the web app labels list cells with them)."""


def test_region_codes_read_as_names_in_the_callers_language(make_user, anonymous):
    zh = make_user("zh.rep", grants=[("lead", ["read"], "own")])
    r = zh.get("/region-labels?codes=440300,440000,331000,Tokyo&language=zh")
    assert r.status_code == 200, r.json
    assert r.json["labels"] == {"440300": "广东省 深圳市", "440000": "广东省", "331000": "浙江省 台州市", "Tokyo": "Tokyo"}
    en = zh.get("/region-labels?codes=440300&language=en").json["labels"]["440300"]
    assert en != "广东省 深圳市" and "Shenzhen" in en
    assert zh.get("/region-labels?codes=" + ",".join(["110000"] * 501)).status_code == 422
    assert anonymous.get("/region-labels?codes=440300").status_code == 401
