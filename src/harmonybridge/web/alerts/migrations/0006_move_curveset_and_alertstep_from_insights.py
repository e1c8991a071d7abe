"""CurveSet and AlertStep move from insights to alerts (the layer that uses them).

The state moves without touching the rows; the tables are then renamed to this app's.
``insights.0003_move_curveset_and_alertstep_to_alerts`` drops them from insights' state.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import harmonybridge.web.fieldcrypto


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("alerts", "0005_alert_reference"),
        ("insights", "0002_curve_set_calibration_acceptance"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AlertStep",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "action",
                            models.CharField(
                                choices=[
                                    ("acknowledged", "acknowledged"),
                                    ("discussed", "discussed with the client"),
                                    ("resolved", "resolved"),
                                ],
                                max_length=20,
                            ),
                        ),
                        (
                            "note",
                            harmonybridge.web.fieldcrypto.EncryptedTextField(
                                blank=True, verbose_name="note"
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "alert",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="steps",
                                to="alerts.storedalert",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "insights_alertstep",
                        "ordering": ["created_at", "id"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("alert", "action"), name="alert_step_once"
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="CurveSet",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("instrument", models.CharField(max_length=40)),
                        ("fit", models.JSONField(help_text="TrajectoryFit.to_dict()")),
                        ("n_clients", models.PositiveIntegerField(default=0)),
                        (
                            "converged",
                            models.BooleanField(
                                default=False,
                                help_text="Only converged fits are ever stored or used.",
                            ),
                        ),
                        (
                            "calibration",
                            models.JSONField(
                                blank=True,
                                default=list,
                                help_text="calibrate_bands rows on the practice's closed engagements (eventual reliable deterioration), with share_flagged",
                            ),
                        ),
                        ("accepted_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "accepted_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "practice",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="curve_sets",
                                to="accounts.practice",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "insights_curveset",
                        "ordering": ["instrument"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("practice", "instrument"),
                                name="curve_set_once",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="alertstep", table=None),
        migrations.AlterModelTable(name="curveset", table=None),
    ]
