from ninja import NinjaAPI

api = NinjaAPI(title="Delegate API", version="1", urls_namespace="api")
