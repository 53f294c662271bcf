from django.urls import path

from . import confirm, feedback, health, metrics, stripe, twilio, unsubscribe, views, whatsapp

app_name = "saleor_crm_webhooks"

urlpatterns = [
    path("api/manifest", views.manifest, name="manifest"),
    path("api/register", views.register, name="register"),
    path("api/webhooks", views.webhook, name="webhook"),
    path("api/stripe/<int:tenant_id>/webhooks", stripe.webhook, name="stripe-webhook"),
    path("api/twilio/<int:tenant_id>/sms", twilio.sms, name="twilio-sms"),
    path("api/whatsapp/<int:tenant_id>/webhook", whatsapp.webhook, name="whatsapp-webhook"),
    path("health", health.health, name="health"),
    path("metrics", metrics.metrics, name="metrics"),
    path("unsubscribe/<str:token>", unsubscribe.unsubscribe, name="unsubscribe"),
    path("consent/confirm/<str:token>", confirm.confirm, name="consent_confirm"),
    path("feedback/<str:token>", feedback.feedback, name="feedback"),
]
