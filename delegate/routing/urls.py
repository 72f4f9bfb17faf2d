from django.urls import path

from delegate.routing import views

app_name = "routing"

urlpatterns = [
    path("dispatch/rebalance/", views.rebalance, name="rebalance"),
    path("dispatch/rules/", views.rules, name="rules"),
    path("dispatch/rebalance/<uuid:proposal_id>/", views.proposal, name="proposal"),
    path("dispatch/rebalance/<uuid:proposal_id>/apply/", views.apply, name="apply"),
    path("dispatch/rebalance/<uuid:proposal_id>/discard/", views.discard, name="discard"),
    path("tasks/<uuid:task_id>/route/", views.route, name="route"),
]
