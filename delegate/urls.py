from django.contrib import admin
from django.urls import include, path

from delegate.accounts.views import home
from delegate.api.urls import api
from delegate.scheduling.urls import public_urlpatterns

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("delegate.accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("delegate.tasks.urls")),
    path("", include("delegate.triage.urls")),
    path("", include("delegate.routing.urls")),
    path("manage/", include("delegate.clients.urls")),
    path("team/", include("delegate.agencies.urls")),
    path("portal/", include("delegate.portal.urls")),
    path("inbound/", include("delegate.intake.urls")),
    path("hooks/", include("delegate.intake.hooks_urls")),
    path("scheduling/", include("delegate.scheduling.urls")),
    path("book/", include((public_urlpatterns, "booking"))),
    path("time/", include("delegate.timetracking.urls")),
    path("billing/", include("delegate.billing.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]
