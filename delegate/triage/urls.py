from django.urls import path

from delegate.triage import views

app_name = "triage"

urlpatterns = [
    path("tasks/<uuid:task_id>/triage/", views.correct, name="correct"),
    path("manage/categories/", views.categories, name="categories"),
    path("manage/categories/<uuid:category_id>/", views.category_edit, name="category_edit"),
    path(
        "manage/categories/<uuid:category_id>/delete/",
        views.category_delete,
        name="category_delete",
    ),
]
