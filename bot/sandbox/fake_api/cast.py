"""The people of the fake Bot API server: customers, staff and managers who write, send
media, edit and press buttons, each action queued as the update Telegram would send."""

from __future__ import annotations

import copy
from collections.abc import Callable

from bot.sandbox.fake_api.html_text import utf16_len
from bot.sandbox.fake_api.params import Upload
from bot.sandbox.fake_api.state import ADMIN_RIGHTS, Chat, Json, State, member_json, user_id_of


class Cast(State):
    """Users, groups and what they do."""

    def new_user(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        user_id: int | None = None,
    ) -> Json:
        """A Telegram user who can write to the bot (with a given id, e.g. a manager's)."""
        uid = user_id if user_id is not None else next(self._user_ids)
        user: Json = {"id": uid, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self._users[user["id"]] = user
        self._chats[user["id"]] = Chat(id=user["id"], type="private", user=user)
        return dict(user)

    def add_supergroup(
        self,
        chat_id: int,
        *,
        title: str = "Staff",
        is_forum: bool = True,
        members: list[int] | tuple[int, ...] = (),
        admins: list[int] | tuple[int, ...] = (),
    ) -> Json:
        """A supergroup the bot is an administrator of (with topics when ``is_forum``)."""
        chat = Chat(
            id=chat_id,
            type="supergroup",
            title=title,
            is_forum=is_forum,
            members=set(members) | set(admins),
            admins=set(admins),
        )
        self._chats[chat_id] = chat
        return chat.as_json()

    def add_member(
        self, chat_id: int, user: Json | int, *, by: Json | int | None = None, announce: bool = True
    ) -> Json | None:
        """Someone joins a group (added ``by`` someone, or by themselves): the ``chat_member``
        update the bot gets as an administrator, unless ``announce`` is off."""
        chat = self._chats[chat_id]
        uid = user_id_of(user)
        chat.banned.discard(uid)
        chat.restricted.discard(uid)
        return self._change_member(chat, uid, by, announce, lambda: chat.members.add(uid))

    def remove_member(
        self,
        chat_id: int,
        user: Json | int,
        *,
        kicked: bool = False,
        by: Json | int | None = None,
        announce: bool = True,
    ) -> Json | None:
        """Someone leaves a group, or is removed from it (``kicked``: banned too)."""
        chat = self._chats[chat_id]
        uid = user_id_of(user)

        def change() -> None:
            chat.members.discard(uid)
            chat.admins.discard(uid)
            chat.restricted.discard(uid)
            if kicked:
                chat.banned.add(uid)

        return self._change_member(chat, uid, by, announce, change)

    def restrict_member(
        self, chat_id: int, user: Json | int, *, by: Json | int | None = None, announce: bool = True
    ) -> Json | None:
        """An administrator restricts a member: still in the group, no longer a full member."""
        chat = self._chats[chat_id]
        uid = user_id_of(user)

        def change() -> None:
            chat.admins.discard(uid)
            chat.members.add(uid)
            chat.restricted.add(uid)

        return self._change_member(chat, uid, by, announce, change)

    def add_bot_to_group(
        self,
        chat_id: int,
        by: Json | int,
        *,
        title: str = "Friends",
        chat_type: str = "supergroup",
        as_admin: bool = False,
    ) -> Json:
        """Someone adds the bot to a group (created if new): the ``my_chat_member`` update."""
        uid = user_id_of(by)
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = Chat(id=chat_id, type=chat_type, title=title, members={uid})
            self._chats[chat_id] = chat
        chat.bot_in = True
        new: Json = {"status": "member", "user": self.me}
        if as_admin:
            new = {"status": "administrator", "user": self.me, **ADMIN_RIGHTS}
        return self.push_update(
            {
                "my_chat_member": {
                    "chat": chat.as_json(),
                    "from": self._users[uid],
                    "date": self._timestamp(),
                    "old_chat_member": {"status": "left", "user": self.me},
                    "new_chat_member": new,
                }
            }
        )

    def _change_member(
        self,
        chat: Chat,
        uid: int,
        by: Json | int | None,
        announce: bool,
        change: Callable[[], None],
    ) -> Json | None:
        user = self._users.get(uid, {"id": uid, "is_bot": False, "first_name": str(uid)})
        old = member_json(chat, user)
        change()
        if not announce:
            return None
        actor = self._users.get(user_id_of(by), user) if by is not None else user
        return self.push_update(
            {
                "chat_member": {
                    "chat": chat.as_json(),
                    "from": actor,
                    "date": self._timestamp(),
                    "old_chat_member": old,
                    "new_chat_member": member_json(chat, user),
                }
            }
        )

    def block(self, user: Json | int) -> Json:
        """The user blocks the bot: sends to them fail with 403 from now on."""
        uid = user_id_of(user)
        self._blocked.add(uid)
        return self.push_update(
            {
                "my_chat_member": {
                    "chat": self._chats[uid].as_json(),
                    "from": self._users[uid],
                    "date": self._timestamp(),
                    "old_chat_member": {"status": "member", "user": self.me},
                    "new_chat_member": {
                        "status": "kicked",
                        "user": self.me,
                        "until_date": 0,
                    },
                }
            }
        )

    def unblock(self, user: Json | int) -> None:
        """The user restarts the bot."""
        self._blocked.discard(user_id_of(user))

    # Acting as people ---------------------------------------------------------------------

    def send_text(
        self,
        user: Json,
        text: str,
        *,
        chat: int | None = None,
        message_thread_id: int | None = None,
        reply_to_message: Json | None = None,
    ) -> Json:
        """The user writes a text (or a /command) in a private chat with the bot or in a group."""
        fields: Json = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            fields["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
            ]
        return self._user_message(user, fields, chat, message_thread_id, reply_to_message)

    def send_photo(
        self,
        user: Json,
        *,
        caption: str | None = None,
        chat: int | None = None,
        message_thread_id: int | None = None,
        data: bytes = b"\x89PNG fake photo",
    ) -> Json:
        """The user sends a photo, with an optional caption."""
        file_id = self._store_file(Upload("photo.jpg", "image/jpeg", data))
        sizes = [
            {
                "file_id": file_id,
                "file_unique_id": file_id[:16],
                "width": w,
                "height": h,
                "file_size": len(data),
            }
            for w, h in ((90, 67), (320, 240), (1280, 960))
        ]
        fields: Json = {"photo": sizes}
        if caption:
            fields["caption"] = caption
        return self._user_message(user, fields, chat, message_thread_id, None)

    def send_document(
        self,
        user: Json,
        *,
        filename: str = "invoice.pdf",
        data: bytes = b"%PDF-1.4 fake",
        mime_type: str = "application/pdf",
        caption: str | None = None,
        chat: int | None = None,
        message_thread_id: int | None = None,
    ) -> Json:
        """The user sends a file."""
        file_id = self._store_file(Upload(filename, mime_type, data))
        fields: Json = {
            "document": {
                "file_id": file_id,
                "file_unique_id": file_id[:16],
                "file_name": filename,
                "mime_type": mime_type,
                "file_size": len(data),
            }
        }
        if caption:
            fields["caption"] = caption
        return self._user_message(user, fields, chat, message_thread_id, None)

    def send_voice(self, user: Json, *, duration: int = 4, chat: int | None = None) -> Json:
        """The user sends a voice note."""
        file_id = self._store_file(Upload("voice.ogg", "audio/ogg", b"OggS fake"))
        fields: Json = {
            "voice": {
                "file_id": file_id,
                "file_unique_id": file_id[:16],
                "duration": duration,
                "mime_type": "audio/ogg",
            }
        }
        return self._user_message(user, fields, chat, None, None)

    def send_sticker(self, user: Json, *, emoji: str = "👍", chat: int | None = None) -> Json:
        """The user sends a sticker."""
        file_id = self._store_file(Upload("sticker.webp", "image/webp", b"RIFF fake"))
        fields: Json = {
            "sticker": {
                "file_id": file_id,
                "file_unique_id": file_id[:16],
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": emoji,
            }
        }
        return self._user_message(user, fields, chat, None, None)

    def edit_text(self, update_or_message: Json, new_text: str) -> Json:
        """The author edits a message they sent earlier: an ``edited_message`` update."""
        message = update_or_message.get("message", update_or_message)
        key = (message["chat"]["id"], message["message_id"])
        stored = self._messages[key]
        stored["text"] = new_text
        stored["edit_date"] = self._timestamp()
        return self.push_update({"edited_message": copy.deepcopy(stored)})

    def press_button(self, user: Json, message: Json, data: str) -> Json:
        """The user presses the inline button carrying ``data`` under a message."""
        key = (message["chat"]["id"], message["message_id"])
        current = self._messages.get(key, message)
        return self.push_update(
            {
                "callback_query": {
                    "id": str(next(self._callback_ids)),
                    "from": self._users.get(user["id"], user),
                    "message": copy.deepcopy(current),
                    "chat_instance": str(abs(key[0])),
                    "data": data,
                }
            }
        )

    def _user_message(
        self,
        user: Json,
        fields: Json,
        chat_id: int | None,
        thread_id: int | None,
        reply_to: Json | None,
    ) -> Json:
        sender = self._users[user["id"]]
        chat = self._chats[chat_id if chat_id is not None else sender["id"]]
        if chat.type == "private":
            self._started.add(sender["id"])
            self._blocked.discard(sender["id"])
        message: Json = {
            "message_id": next(chat.next_message_id),
            "from": sender,
            "chat": chat.as_json(),
            "date": self._timestamp(),
        }
        if thread_id is not None:
            if thread_id not in chat.topics:
                raise ValueError(f"chat {chat.id} has no topic {thread_id}")
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
            if reply_to is None:
                # In a topic, Telegram shows a plain message as a reply to the topic's start.
                reply_to = self._messages.get((chat.id, thread_id))
        if reply_to is not None:
            original = self._messages.get((chat.id, reply_to["message_id"]), reply_to)
            message["reply_to_message"] = {
                k: v for k, v in copy.deepcopy(original).items() if k != "reply_to_message"
            }
        message.update(fields)
        self._messages[(chat.id, message["message_id"])] = message
        return self.push_update({"message": copy.deepcopy(message)})
