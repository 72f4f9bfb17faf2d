from django.urls import path

from delegate.portal import budget, views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("budget/", budget.budget, name="budget"),
    path("budget/approve-time/", budget.approve_time, name="approve_time"),
    path("budget/approve-overage/", budget.approve_overage, name="approve_overage"),
    path("invoices/<uuid:invoice_id>/", budget.invoice, name="invoice"),
    path("tasks/<uuid:task_id>/", views.task, name="task"),
    path("tasks/<uuid:task_id>/reply/", views.reply, name="reply"),
    path("tasks/<uuid:task_id>/cancel/", views.cancel, name="cancel"),
    path(
        "tasks/<uuid:task_id>/attachments/<uuid:attachment_id>/",
        views.attachment,
        name="attachment",
    ),
]
