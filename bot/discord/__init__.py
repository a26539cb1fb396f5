"""The Discord layer: a thin client that turns interactions into AskService calls and Answers into embeds.

This package is `bot.discord`; inside it, `import discord` is an absolute import and gets discord.py.
"""
