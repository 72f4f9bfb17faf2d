from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from delegate.accounts import throttle
from delegate.agencies.middleware import SESSION_AGENCY_KEY
from delegate.core.http import client_address


class ThrottledAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Email or password is wrong."),
        "throttled": _("Too many failed attempts. Please wait a few minutes and try again."),
    }

    def clean(self) -> dict[str, Any]:
        email = self.cleaned_data.get("username") or ""
        ip = client_address(self.request) if self.request else None
        if email and throttle.is_throttled(email, ip):
            raise ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            cleaned = super().clean()
        except ValidationError:
            if email:
                throttle.record_failure(email, ip)
            raise
        throttle.clear_failures(email)
        return cleaned


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True


@login_required
@require_POST
def switch_agency(request: HttpRequest) -> HttpResponse:
    """Choose which of the user's agencies the session acts in."""
    agency_id = request.POST.get("agency", "")
    memberships = getattr(request, "memberships", [])
    if any(str(m.agency_id) == agency_id for m in memberships):
        request.session[SESSION_AGENCY_KEY] = agency_id
    target = request.POST.get("next") or reverse("home")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("home")
    return HttpResponseRedirect(target)


def home(request: HttpRequest) -> HttpResponse:
    """Send everybody to their starting page."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    member = getattr(request, "member", None)
    if member is not None:
        return redirect("tasks:dispatch" if member.is_manager else "tasks:queue")
    if getattr(request, "contact", None) is not None:
        return redirect("portal:home")
    return redirect("accounts:no_access")


def no_access(request: HttpRequest) -> HttpResponse:
    from django.shortcuts import render

    return render(request, "accounts/no_access.html", status=403)
