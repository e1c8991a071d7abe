"""Every engagement has its measurement plan from the day it is created.

The engagement page used to create a missing (empty) plan on GET; it no longer writes,
so engagements that never had their page opened get their empty plan here.
"""

from django.db import migrations


def backfill_plans(apps, schema_editor):
    engagement_model = apps.get_model("practice", "Engagement")
    plan_model = apps.get_model("practice", "MeasurementPlan")
    missing = engagement_model.objects.filter(plan__isnull=True).values_list(
        "pk", flat=True
    )
    plan_model.objects.bulk_create(
        plan_model(engagement_id=pk) for pk in missing.iterator()
    )


class Migration(migrations.Migration):
    dependencies = [("practice", "0001_initial")]

    operations = [migrations.RunPython(backfill_plans, migrations.RunPython.noop)]
