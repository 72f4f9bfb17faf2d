from django.urls import path

from delegate.clients import views

app_name = "clients"

urlpatterns = [
    path("clients/", views.client_list, name="list"),
    path("clients/new/", views.client_create, name="create"),
    path("clients/<uuid:client_id>/", views.client_detail, name="detail"),
    path("clients/<uuid:client_id>/edit/", views.client_edit, name="edit"),
    path(
        "clients/<uuid:client_id>/addresses/<slug:kind>/",
        views.address_edit,
        name="address_edit",
    ),
    path("clients/<uuid:client_id>/contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/identity-row/", views.identity_row, name="identity_row"),
    path("contacts/<uuid:contact_id>/", views.contact_edit, name="contact_edit"),
    path("contacts/<uuid:contact_id>/portal/", views.portal_grant, name="portal_grant"),
    path("contacts/<uuid:contact_id>/portal/revoke/", views.portal_revoke, name="portal_revoke"),
]
