from django.http import HttpRequest, HttpResponse

from delegate.core.http import member_required


@member_required(manager=True)
def client_list(request: HttpRequest) -> HttpResponse:
    return HttpResponse("clients")
