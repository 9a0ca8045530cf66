-- post.lua - wrk: POST the JSON body in $BENCH_BODY to the URL.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
