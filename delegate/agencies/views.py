from django.http import HttpRequest, HttpResponse

from delegate.core.http import member_required


@member_required(manager=True)
def team(request: HttpRequest) -> HttpResponse:
    return HttpResponse("team")
