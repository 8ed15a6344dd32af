import NetCore
import HTTPClient
