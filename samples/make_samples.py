"""Write the sample lead files shipped in this folder (deterministic: same output every run).

    .venv/bin/python samples/make_samples.py

leads_sample.xlsx and leads_sample_gb18030.csv hold the same 40 leads with Chinese headers, as a
trade-show team would type them: full-width characters, spaces inside names, phones with spaces,
labels instead of option keys. Five rows are invalid (fixed in the README walkthrough), two repeat
a lead of the same file (same mobile: skipped), and two look like another lead at the same company
(queued for review).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
HEADER = ["姓名", "手机号", "邮箱", "公司", "职位", "城市", "兴趣偏好", "评分", "预算（元）", "下次跟进日期", "备注"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英", "霞", "平"]
COMPANIES = ["上海星辰科技有限公司", "北京云帆信息技术有限公司", "深圳前海数智有限公司", "杭州西子电商有限公司",
             "成都天府文旅集团"]
CITIES = ["上海", "北京", "深圳", "杭州", "成都", "Shanghai", "Beijing"]
INTERESTS = ["美妆护肤", "旅行", "美食饮品", "数码电子", "运动健身", "理财"]
TITLES = ["市场经理", "采购总监", "CEO", "产品经理", "运营专员"]


def rows() -> list[list[object]]:
    out: list[list[object]] = []
    for i in range(33):
        name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7 + i // 20) % len(GIVEN)]
        if i % 6 == 0:
            name = " ".join(name)  # "王 伟": typed with a space
        phone = f"13{(i * 37) % 10}{i:08d}"
        if i % 5 == 0:
            phone = f"{phone[:3]} {phone[3:7]} {phone[7:]}"
        email = f"user{i}@example.com" if i % 3 else f"ＵＳＥＲ{i}＠ＥＸＡＭＰＬＥ.ＣＯＭ"  # full-width
        out.append([name, phone, email, COMPANIES[i % len(COMPANIES)], TITLES[i % len(TITLES)],
                    CITIES[i % len(CITIES)], "、".join(INTERESTS[i % 6: i % 6 + 1 + i % 2]), 40 + i,
                    f"{(i + 1) * 1000}", f"2026-12-{(i % 28) + 1:02d}", "展会扫码" if i % 4 == 0 else None])
    # invalid rows: fixed in the README walkthrough
    out.append(["", "13912345678", "noname@example.com", COMPANIES[0], None, "上海", None, 50, None, None, "没有姓名"])
    out.append(["孙丽", "12345", "sunli@example.com", COMPANIES[1], None, "北京", None, 60, None, None, None])
    out.append(["周强", "13812340000", "zhouqiang@", COMPANIES[2], None, "深圳", None, 70, None, None, None])
    out.append(["吴敏", "13812341111", "wumin@example.com", COMPANIES[3], None, "火星", None, 80, None, None, None])
    out.append(["郑杰", "13812342222", "zhengjie@example.com", COMPANIES[4], None, "成都", None, 120, None, None, None])
    # duplicates: the same mobile as a lead above (skipped), similar names at the same company (flagged)
    out.append([out[1][0], out[1][1].replace(" ", ""), None, out[1][3], None, out[1][5], None, None, None, None, "重复扫码"])
    out.append([out[2][0], out[2][1], "again@example.com", out[2][3], None, None, None, None, None, None, None])
    out.append([out[3][0][:1] + "晓" + out[3][0][1:], "15700000001", None, out[3][3], None, None, None, None, None, None, None])
    out.append([out[4][0] + "明", "15700000002", None, out[4][3], None, None, None, None, None, None, None])
    return out


def main() -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "线索"
    sheet.append(HEADER)
    for row in rows():
        sheet.append(row)
    book.save(HERE / "leads_sample.xlsx")
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(HEADER)
    for row in rows():
        writer.writerow(["" if v is None else v for v in row])
    (HERE / "leads_sample_gb18030.csv").write_bytes(text.getvalue().encode("gb18030"))
    print(f"wrote {HERE / 'leads_sample.xlsx'} and {HERE / 'leads_sample_gb18030.csv'} ({len(rows())} rows)")


if __name__ == "__main__":
    main()
