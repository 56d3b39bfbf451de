"""StreamChat against llm-router from Python, on stubs generated from proto/ by protoc (see README.md here).

    python3 stream_chat.py [PROMPT]

The router is the one at LLMROUTER_TARGET (what `llm-router test` sets), 127.0.0.1:50051 otherwise. Prints the
answer's text as it streams, then its finish reason; on a gRPC error prints `ERROR <code> <details>` on stderr and
exits 1.
"""
import os
import sys

import grpc

from llmrouter.v1 import chat_pb2, chat_service_pb2_grpc

MODEL = "openai/gpt-4o-mini"


def main():
    target = os.environ.get("LLMROUTER_TARGET", "127.0.0.1:50051")
    prompt = sys.argv[1] if len(sys.argv) > 1 else "Write a haiku about the sea."
    request = chat_pb2.ChatRequest(model=MODEL, messages=[
        chat_pb2.Message(role=chat_pb2.ROLE_USER, parts=[chat_pb2.Part(text=prompt)])])
    with grpc.insecure_channel(target) as channel:
        stub = chat_service_pb2_grpc.ChatServiceStub(channel)
        try:
            for event in stub.StreamChat(request, timeout=60):
                if event.HasField("text_delta"):
                    print(event.text_delta.text, end="", flush=True)
                elif event.HasField("done"):
                    print()
                    print("finish:", chat_pb2.FinishReason.Name(event.done.response.finish_reason))
        except grpc.RpcError as error:
            print(f"ERROR {error.code().name} {error.details()}", file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()
