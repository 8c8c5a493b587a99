from django.shortcuts import render


def index(request):
    return render(request, "analytics/index.html")


def event_detail(request, product, name):
    return render(request, "analytics/index.html")
