from django.urls import path

from delegate.billing import views

app_name = "billing"

urlpatterns = [
    path("", views.invoices, name="invoices"),
    path("run/", views.run, name="run"),
    path("new/", views.new, name="new"),
    path("issuers/", views.add_issuer, name="add_issuer"),
    path("gaps/", views.gaps, name="gaps"),
    path("invoices/<uuid:invoice_id>/", views.invoice, name="invoice"),
    path("invoices/<uuid:invoice_id>/edit/", views.edit, name="edit"),
    path("invoices/<uuid:invoice_id>/lines/", views.add_line, name="add_line"),
    path("invoices/<uuid:invoice_id>/delete/", views.delete, name="delete"),
    path("invoices/<uuid:invoice_id>/issue/", views.issue, name="issue"),
    path("invoices/<uuid:invoice_id>/send/", views.send, name="send"),
    path("invoices/<uuid:invoice_id>/payments/", views.payment, name="payment"),
    path("invoices/<uuid:invoice_id>/cancel/", views.cancel, name="cancel"),
    path("invoices/<uuid:invoice_id>/credit/", views.credit, name="credit"),
    path("invoices/<uuid:invoice_id>/pdf/", views.pdf, name="pdf"),
    path("invoices/<uuid:invoice_id>/xml/", views.xml, name="xml"),
    path("lines/<uuid:line_id>/remove/", views.remove_line, name="remove_line"),
    path("clients/<uuid:client_id>/", views.client, name="client"),
    path("clients/<uuid:client_id>/contracts/", views.add_contract, name="add_contract"),
    path("contracts/<uuid:contract_id>/", views.edit_contract, name="edit_contract"),
]
