import HTTPTestServer
print("test-server: not built yet")
