from django.http import HttpResponse
from django.shortcuts import render


def index(request):
    return render(request, "tooling/index.html")


def template_detail(request, slug):
    return HttpResponse(slug)


def document_detail(request, pk):
    return HttpResponse(pk)


def roadmap_item(request, pk):
    return HttpResponse(pk)


def launch_detail(request, pk):
    return HttpResponse(pk)
