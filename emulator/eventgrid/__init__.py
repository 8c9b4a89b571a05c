"""Huawei EventGrid's publish call: the events a sink sent, kept for tests to read."""
