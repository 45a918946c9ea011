import datetime

from django.db import migrations

BODY = """本平台由县新时代文明实践中心（县文明办）运营，依照《中华人民共和国个人信息保护法》和《志愿服务条例》处理志愿者的个人信息。

一、我们收集的信息：姓名、证件类型和号码（由此得出出生日期和性别）、手机号码、政治面貌、学历、技能、服务领域、所属单位；未满十八周岁的，还有监护人的姓名、手机号码和同意。

二、用途：实名注册志愿者、记录志愿服务时长、开具志愿服务证明、联系您参加活动。统一编号是您的公开标识，证件号码不会公开。

三、保护：证件号码加密保存，页面和导出中只显示部分号码；只有确需完整号码的县级管理员可以查看，每次查看都有记录。短信验证码只用于登录。

四、您的权利：您可以查询、更正您的信息，可以申请转接关系，或申请删除信息、关闭账号。联系所属单位的管理员或县文明办。

五、本告知的版本和您同意的时间随您的注册一并保存；告知更新时，我们会请您重新确认。"""


def add_notice(apps, schema_editor):
    PrivacyNotice = apps.get_model("volunteers", "PrivacyNotice")
    PrivacyNotice.objects.get_or_create(
        version="2026-1",
        defaults={"title": "志愿者个人信息保护告知", "body": BODY, "effective_from": datetime.date(2026, 1, 1)},
    )


class Migration(migrations.Migration):
    dependencies = [("volunteers", "0001_initial")]

    operations = [migrations.RunPython(add_notice, migrations.RunPython.noop)]
