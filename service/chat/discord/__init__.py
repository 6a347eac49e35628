"""Discord: a bot posts each request with buttons; the people in the channel decide with them.

`sender` posts and edits the messages through Discord's REST API (a user's id gets a DM),
`components` lays them out, `interactions` is the endpoint Discord sends button clicks
and modal submissions to, and `signature` checks that Discord signed each of them.
"""
