"""CurveSet and AlertStep now belong to alerts (``alerts.0006``): drop them from this
app's state only; their rows stay and live on under the alerts app."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0002_curve_set_calibration_acceptance"),
        ("alerts", "0006_move_curveset_and_alertstep_from_insights"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="AlertStep"),
                migrations.DeleteModel(name="CurveSet"),
            ],
            database_operations=[],
        ),
    ]
