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
// Tornado's demos/websocket/static/chat.js in plain JavaScript (no jQuery, no CDN): the form
// sends its fields as JSON over the WebSocket, and each message that arrives is shown once.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("messageform");
    form.addEventListener("submit", function (e) {
        e.preventDefault();
        newMessage(form);
    });
    document.getElementById("message").select();
    updater.start();
});

function newMessage(form) {
    var message = formToDict(form);
    updater.socket.send(JSON.stringify(message));
    var text = form.querySelector("input[type=text]");
    text.value = "";
    text.select();
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
    socket: null,

    start: function () {
        var scheme = location.protocol === "https:" ? "wss://" : "ws://";
        updater.socket = new WebSocket(scheme + location.host + "/chatsocket");
        updater.socket.onmessage = function (event) {
            updater.showMessage(JSON.parse(event.data));
        };
    },

    showMessage: function (message) {
        if (document.getElementById("m" + message.id)) return;
        document.getElementById("inbox").insertAdjacentHTML("beforeend", message.html);
    }
};
