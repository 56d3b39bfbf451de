package dev.llmrouter.cassettes;
