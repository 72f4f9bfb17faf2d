from django.http import HttpRequest, HttpResponse

from delegate.core.http import member_required


@member_required()
def queue(request: HttpRequest) -> HttpResponse:
    return HttpResponse("queue")


@member_required(manager=True)
def dispatch(request: HttpRequest) -> HttpResponse:
    return HttpResponse("dispatch")


@member_required()
def detail(request: HttpRequest, task_id: str) -> HttpResponse:
    return HttpResponse("detail")
