from django.http import HttpRequest, HttpResponse

from delegate.core.http import contact_required


@contact_required
def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse("portal")


@contact_required
def task(request: HttpRequest, task_id: str) -> HttpResponse:
    return HttpResponse("portal task")
