"""Slack: requests posted by a Slack app's bot, decided by its buttons or answered in its threads.

`sender` talks to Slack's Web API (slack_sdk's WebClient at `slack_api_url`); `blocks` lays a
request out in Block Kit; `blueprint` takes what Slack sends to /slack/interactions and
/slack/events, each verified by `signature`, and hands clicks and forms to `interactions`,
thread replies to `events`, which decide through `answers`.
"""
