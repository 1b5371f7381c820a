"""Affordance models: how likely each skill call is to succeed from the perceived scene."""
