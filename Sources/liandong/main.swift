import ArgumentParser
import Hummingbird
import PostgresNIO
import AsyncHTTPClient
import Yams
import Crypto
print("hi")
