// Copyright 2009 FriendFeed
//
// Licensed under the Apache License, Version 2.0 (the "License"); you may
// not use this file except in compliance with the License. You may obtain
// a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
// WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
// License for the specific language governing permissions and limitations
// under the License.
//
// Tornado's demos/chat/static/chat.js in plain JavaScript (no jQuery, no CDN): the form
// posts through fetch(), and a long poll on /a/message/updates shows new messages.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("messageform");
    form.addEventListener("submit", function (e) {
        e.preventDefault();
        newMessage(form);
    });
    document.getElementById("message").select();
    updater.poll();
});

function newMessage(form) {
    var message = formToDict(form);
    var submit = form.querySelector("input[type=submit]");
    submit.disabled = true;
    postJSON("/a/message/new", message).then(function (response) {
        updater.showMessage(response);
        var text = form.querySelector("input[type=text]");
        text.value = "";
        text.select();
        submit.disabled = false;
    }, function (error) {
        console.log("ERROR:", error);
        submit.disabled = false;
    });
}

function getCookie(name) {
    var r = document.cookie.match("\\b" + name + "=([^;]*)\\b");
    return r ? r[1] : undefined;
}

function postJSON(url, args) {
    args._xsrf = getCookie("_xsrf");
    return fetch(url, { method: "POST", body: new URLSearchParams(args) }).then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
    });
}

function formToDict(form) {
    var json = {};
    new FormData(form).forEach(function (value, name) {
        json[name] = value;
    });
    delete json.next;
    return json;
}

var updater = {
    errorSleepTime: 500,
    cursor: null,

    poll: function () {
        var args = {};
        if (updater.cursor) args.cursor = updater.cursor;
        postJSON("/a/message/updates", args).then(updater.onSuccess, updater.onError);
    },

    onSuccess: function (response) {
        updater.newMessages(response);
        updater.errorSleepTime = 500;
        window.setTimeout(updater.poll, 0);
    },

    onError: function () {
        updater.errorSleepTime *= 2;
        console.log("Poll error; sleeping for", updater.errorSleepTime, "ms");
        window.setTimeout(updater.poll, updater.errorSleepTime);
    },

    newMessages: function (response) {
        if (!response.messages) return;
        var messages = response.messages;
        updater.cursor = messages[messages.length - 1].id;
        console.log(messages.length, "new messages, cursor:", updater.cursor);
        for (var i = 0; i < messages.length; i++) {
            updater.showMessage(messages[i]);
        }
    },

    showMessage: function (message) {
        if (document.getElementById("m" + message.id)) return;
        document.getElementById("inbox").insertAdjacentHTML("beforeend", message.html);
    }
};
