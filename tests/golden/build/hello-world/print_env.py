import os
print(os.environ.get("API_USER"))
