#!/usr/bin/env python3
"""Writes tests/data/shapes/*.eml: PPO mails shaped byte for byte the way real
clients and servers write them (header order, X-Mailer / User-Agent, boundary
style, encodings, base64 line length). Run from anywhere; the .eml files are
committed, this script is how they were made and how to make more.

Each shape says which client it imitates and where its quirks come from. The
expected outcome of each is in expected.json (read by
tests/integration/test_mail_shapes.cpp), written from the identification rules,
not from running the daemon.

Lycées: campaign LGTs of tests/data/annuaire-hdf-sample.csv (académies 09, 20),
one per shape so that acknowledgements and status never mix.
"""
import base64
import os
import quopri
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
PPO = "ppo@region-academique-hauts-de-france.fr"


# --- building blocks ---------------------------------------------------------

def pdf(tag):
    """A minimal valid one-page PDF (a few hundred bytes) whose text is `tag`."""
    content = ("BT /F1 14 Tf 72 770 Td (Programme pluriannuel d'orientation - %s) Tj ET" % tag).encode("latin-1")
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return out


def b64(data, width=76):
    s = base64.b64encode(data).decode()
    return "\n".join(s[i:i + width] for i in range(0, len(s), width))


def qp(text, charset="utf-8"):
    """Quoted-printable body as Outlook, Apple Mail and Gmail write it (76 columns)."""
    raw = text.replace("\n", "\r\n").encode(charset)
    enc = quopri.encodestring(raw, quotetabs=False).decode("ascii")
    return enc.replace("\r\n", "\n").replace("=0D\n", "\n")


def ew_b(text, charset="utf-8", chunk=45):
    """RFC 2047 B encoded words, split on character boundaries (as Exchange does
    for long names: several words inside one quoted parameter)."""
    words, cur = [], b""
    for ch in text:
        enc = ch.encode(charset)
        if len(cur) + len(enc) > chunk:
            words.append(cur)
            cur = b""
        cur += enc
    if cur:
        words.append(cur)
    return " ".join("=?%s?B?%s?=" % (charset, base64.b64encode(w).decode()) for w in words)


def ew_q(text, charset="utf-8"):
    out = ""
    for byte in text.encode(charset):
        c = chr(byte)
        if c == " ":
            out += "_"
        elif c.isalnum() and byte < 0x80:
            out += c
        else:
            out += "=%02X" % byte
    return "=?%s?Q?%s?=" % (charset, out)


def tb_rfc2231(param, value):
    """Thunderbird's RFC 2231 folding (mail.strictly_mime.parm_folding, as in
    comm-central's test_attachment_intl.js): every byte %XX-escaped, segments
    cut so that each line stays within 78 columns."""
    chars = ["".join("%%%02X" % b for b in ch.encode("utf-8")) for ch in value]
    lines, i, n = [], 0, 0
    while i < len(chars):
        head = " %s*%d*=" % (param, n) + ("UTF-8''" if n == 0 else "")
        piece = ""
        while i < len(chars) and len(head) + len(piece) + len(chars[i]) <= 74:
            piece += chars[i]
            i += 1
        lines.append(head + piece)
        n += 1
    return ";\n".join(lines)


def flowed(text, width=72):
    """format=flowed (RFC 3676) as Thunderbird writes it: soft breaks end with a space."""
    out = []
    for para in text.split("\n"):
        words, line = para.split(" "), ""
        for w in words:
            if line and len(line) + 1 + len(w) > width:
                out.append(line + " ")
                line = w
            else:
                line = (line + " " + w) if line else w
        out.append(line)
    return "\n".join(out)


def msg_props():
    """attMsgProps as Outlook writes it for a rich-text message: PR_SUBJECT and
    PR_RTF_COMPRESSED (here the uncompressed "MELA" form of the format) holding
    the RTF body with Outlook's font and colour tables. It comes before the
    attachments, so the PDF inside starts well past the first KiB."""
    rtf = (r"{\rtf1\ansi\ansicpg1252\fromhtml1 \fbidis \deff0{\fonttbl"
           r"{\f0\fswiss\fcharset0 Arial;}{\f1\fmodern Courier New;}{\f2\fnil\fcharset2 Symbol;}"
           r"{\f3\fmodern\fcharset0 Courier New;}{\f4\fswiss\fcharset0 Calibri;}"
           r"{\f5\fswiss\fcharset0 \'44\'65\'66\'61\'75\'6c\'74 Sans Serif;}}"
           r"{\colortbl\red0\green0\blue0;\red5\green99\blue193;\red149\green79\blue114;}"
           r"{\*\generator Microsoft Exchange Server;}{\*\formatConverter converted from html;}"
           r"\viewkind5\viewscale100{\*\bkmkstart BM_BEGIN}"
           r"{\*\htmltag243 <html xmlns:v=\'22urn:schemas-microsoft-com:vml\'22>}"
           r"{\*\htmltag34 <head>}{\*\htmltag1 \par }{\*\htmltag241 <style>}"
           r"{\*\htmltag241 p.MsoNormal, li.MsoNormal, div.MsoNormal \{margin:0cm; font-size:11.0pt; "
           r"font-family:\'22Calibri\'22,sans-serif; mso-fareast-language:EN-US;\}}"
           r"{\*\htmltag241 @page WordSection1 \{size:612.0pt 792.0pt; margin:70.85pt 70.85pt 70.85pt 70.85pt;\}}"
           r"{\*\htmltag249 </style>}{\*\htmltag41 </head>}"
           r"{\*\htmltag50 <body lang=\'22FR\'22 link=\'22#0563C1\'22 vlink=\'22#954F72\'22>}"
           r"\htmlrtf {\htmlrtf0 {\*\htmltag96 <div class=\'22WordSection1\'22>}\htmlrtf {\htmlrtf0 "
           r"{\*\htmltag64 <p class=\'22MsoNormal\'22>}\htmlrtf {\htmlrtf0 Bonjour,"
           r"{\*\htmltag244 <o:p>}{\*\htmltag252 </o:p>}\htmlrtf \par \htmlrtf0 {\*\htmltag72 </p>}"
           r"{\*\htmltag64 <p class=\'22MsoNormal\'22>}\htmlrtf {\htmlrtf0 Ci-joint le PPO du lyc\'e9e."
           r"{\*\htmltag244 <o:p>}{\*\htmltag252 </o:p>}\htmlrtf \par \htmlrtf0 {\*\htmltag72 </p>}"
           r"{\*\htmltag64 <p class=\'22MsoNormal\'22>}\htmlrtf {\htmlrtf0 Cordialement,"
           r"{\*\htmltag244 <o:p>}{\*\htmltag252 </o:p>}\htmlrtf \par \htmlrtf0 {\*\htmltag72 </p>}"
           r"{\*\htmltag64 <p class=\'22MsoNormal\'22>}\htmlrtf {\htmlrtf0 M. Leroy, proviseur adjoint"
           r"{\*\htmltag244 <o:p>}{\*\htmltag252 </o:p>}\htmlrtf \par \htmlrtf0 {\*\htmltag72 </p>}"
           r"{\*\htmltag104 </div>}{\*\htmltag58 </body>}{\*\htmltag27 </html>}}").encode("cp1252")
    comp = struct.pack("<IIII", len(rtf) + 12, len(rtf), 0x414C454D, 0) + rtf   # MELA: uncompressed
    def pad(b):
        return b + b"\0" * (-len(b) % 4)
    subject = b"PPO 2022\0"
    props = struct.pack("<I", 2)
    props += struct.pack("<HHII", 0x001E, 0x0037, 1, len(subject)) + pad(subject)   # PR_SUBJECT
    props += struct.pack("<HHII", 0x0102, 0x1009, 1, len(comp)) + pad(comp)         # PR_RTF_COMPRESSED
    return props


def tnef(attachment_name, data):
    """A Transport Neutral Encapsulation Format stream (MS-OXTNEF) holding one
    attachment: signature, key, message attributes, then attRenddata /
    attAttachTitle / attAttachData for the file."""
    def attr(level, ident, payload):
        return (struct.pack("<BII", level, ident, len(payload)) + payload +
                struct.pack("<H", sum(payload) & 0xFFFF))
    out = struct.pack("<IH", 0x223E9F78, 0x4E2A)
    out += attr(1, 0x00089006, struct.pack("<I", 0x00010000))          # attTnefVersion
    out += attr(1, 0x00069007, struct.pack("<II", 1252, 0))            # attOemCodepage
    out += attr(1, 0x00078008, b"IPM.Microsoft Mail.Note\0")           # attMessageClass
    out += attr(1, 0x00018004, b"PPO 2022\0")                          # attSubject
    out += attr(1, 0x00069003, msg_props())                            # attMsgProps: the rich-text body
    out += attr(2, 0x00069002, struct.pack("<HIHHI", 1, 0xFFFFFFFF, 0, 0, 0))  # attAttachRenddata
    out += attr(2, 0x00018010, attachment_name.encode("cp1252") + b"\0")      # attAttachTitle
    out += attr(2, 0x0006800F, data)                                   # attAttachData
    return out


def write(name, text):
    data = text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


WORD_HEAD = (
    '<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
    'xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://schemas.microsoft.com/office/2004/12/omml" '
    'xmlns="http://www.w3.org/TR/REC-html40"><head><meta http-equiv="Content-Type" content="text/html; charset={cs}">'
    '<meta name="Generator" content="Microsoft Word 15 (filtered medium)"><style><!--\n'
    '/* Font Definitions */\n@font-face\n\t{{font-family:"Cambria Math";\n\tpanose-1:2 4 5 3 5 4 6 3 2 4;}}\n'
    '@font-face\n\t{{font-family:Calibri;\n\tpanose-1:2 15 5 2 2 2 4 3 2 4;}}\n'
    '/* Style Definitions */\np.MsoNormal, li.MsoNormal, div.MsoNormal\n\t{{margin:0cm;\n\tfont-size:11.0pt;\n'
    '\tfont-family:"Calibri",sans-serif;\n\tmso-fareast-language:EN-US;}}\n'
    'span.EmailStyle17\n\t{{mso-style-type:personal-compose;\n\tfont-family:"Calibri",sans-serif;\n\tcolor:windowtext;}}\n'
    '.MsoChpDefault\n\t{{mso-style-type:export-only;\n\tfont-family:"Calibri",sans-serif;\n\tmso-fareast-language:EN-US;}}\n'
    '@page WordSection1\n\t{{size:612.0pt 792.0pt;\n\tmargin:70.85pt 70.85pt 70.85pt 70.85pt;}}\n'
    'div.WordSection1\n\t{{page:WordSection1;}}\n--></style><!--[if gte mso 9]><xml>\n'
    '<o:shapedefaults v:ext="edit" spidmax="1026" />\n</xml><![endif]--><!--[if gte mso 9]><xml>\n'
    '<o:shapelayout v:ext="edit">\n<o:idmap v:ext="edit" data="1" />\n</o:shapelayout></xml><![endif]--></head>'
    '<body lang=FR link="#0563C1" vlink="#954F72" style=\'word-wrap:break-word\'><div class=WordSection1>')


def word_html(paragraphs, cs="utf-8"):
    import html
    body = "".join("<p class=MsoNormal>%s<o:p></o:p></p>" % html.escape(p, quote=False)
                   if p else "<p class=MsoNormal><o:p>&nbsp;</o:p></p>" for p in paragraphs)
    return WORD_HEAD.format(cs=cs) + body + "</div></body></html>"


# --- 1. Outlook 16 through Exchange Online -----------------------------------

def outlook_exchange():
    name = "PPO 2022-2025 - Lycée général et technologique Camille Claudel.pdf"
    data = pdf("Camille Claudel, Douai")
    mid = "PAZP264MB2863C5A1F0E4B2D7A8C9E1B3D2F10"
    host = "PAZP264MB2863.FRAP264.PROD.OUTLOOK.COM"
    b_mixed = "_004_%s%s_" % (mid, host.replace(".", "")[:18])
    b_alt = "_000_%s%s_" % (mid, host.replace(".", "")[:18])
    paras = ["Bonjour,", "", "Veuillez trouver ci-joint le programme pluriannuel d’orientation de notre établissement.",
             "", "Bien cordialement,", "", "Le secrétariat de direction",
             "Lycée Camille Claudel", "64 avenue Léonard de Vinci", "59500 Douai"]
    text = "\n".join(paras) + "\n"
    ew = ew_b(name).replace(" ", "\n\t")   # Exchange folds between the encoded words
    return f"""Received: from PAZP264MB2863.FRAP264.PROD.OUTLOOK.COM ([fe80::4d1e:92a0:7b3c:1f5e]) by
 PAZP264MB2863.FRAP264.PROD.OUTLOOK.COM ([fe80::4d1e:92a0:7b3c:1f5e%4]) with mapi id
 15.20.5038.014; Tue, 1 Mar 2022 08:41:12 +0000
From: =?utf-8?B?{base64.b64encode("Secrétariat de direction".encode()).decode()}?= <ce.0596082r@ac-lille.fr>
To: "{PPO}"
	<{PPO}>
Subject: =?utf-8?B?{base64.b64encode("PPO 2022-2025 – Lycée Camille Claudel".encode()).decode()}?=
Thread-Topic: =?utf-8?B?{base64.b64encode("PPO 2022-2025 – Lycée Camille Claudel".encode()).decode()}?=
Thread-Index: AdgtTjmyWJ1+Hk4hR4ukZ2T3BxHjuQ==
Date: Tue, 1 Mar 2022 08:41:12 +0000
Message-ID: <{mid}@{host}>
Accept-Language: fr-FR, en-US
Content-Language: fr-FR
X-MS-Has-Attach: yes
X-MS-TNEF-Correlator:
x-ms-publictraffictype: Email
x-ms-office365-filtering-correlation-id: 6c2f8e1a-93b4-4d7e-0a15-08d9fb5e2c71
x-ms-traffictypediagnostic: PAZP264MB2863:EE_
x-ms-exchange-senderadcheck: 1
x-ms-exchange-antispam-relay: 0
x-microsoft-antispam: BCL:0;
Content-Type: multipart/mixed;
	boundary="{b_mixed}"
MIME-Version: 1.0

--{b_mixed}
Content-Type: multipart/alternative;
	boundary="{b_alt}"

--{b_alt}
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

{qp(text)}
--{b_alt}
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

{qp(word_html(paras))}
--{b_alt}--

--{b_mixed}
Content-Type: application/pdf;
	name="{ew}"
Content-Description: {ew}
Content-Disposition: attachment;
	filename="{ew}";
	size={len(data)}; creation-date="Tue, 01 Mar 2022 08:40:55 GMT";
	modification-date="Tue, 01 Mar 2022 08:41:12 GMT"
Content-Transfer-Encoding: base64

{b64(data)}

--{b_mixed}--
"""


# --- 2. Outlook rich text through Exchange: winmail.dat only -----------------

def outlook_tnef():
    data = pdf("Alexandre Ribot, Armentieres")
    mid = "DB9P192MB1356E0B4A7C2F91D5E3B8A6C41D22"
    host = "DB9P192MB1356.EURP192.PROD.OUTLOOK.COM"
    b = "_000_%s%s_" % (mid, host.replace(".", "")[:18])
    text = ("Bonjour,\n\nCi-joint le PPO du lycée.\n\nCordialement,\n\nM. Leroy\nProviseur adjoint\n")
    return f"""From: "Leroy, Marc" <ce.0597091m@ac-lille.fr>
To: "{PPO}"
	<{PPO}>
Subject: PPO 2022
Thread-Topic: PPO 2022
Thread-Index: AdgtVb4kTn8Q2rFhS0yW7c1pZ8vJ3A==
Date: Tue, 1 Mar 2022 09:33:40 +0000
Message-ID: <{mid}@{host}>
Accept-Language: fr-FR, en-US
Content-Language: fr-FR
X-MS-Has-Attach: yes
X-MS-TNEF-Correlator: <{mid}@{host}>
x-ms-publictraffictype: Email
Content-Type: multipart/mixed;
	boundary="{b}"
MIME-Version: 1.0

--{b}
Content-Type: text/plain; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable

{qp(text, "iso-8859-1")}
--{b}
Content-Type: application/ms-tnef; name="winmail.dat"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="winmail.dat"

{b64(tnef("PPO 2022.pdf", data))}

--{b}--
"""


# --- 3. Thunderbird 102: RFC 2231 continuations, format=flowed ---------------

def thunderbird_102():
    name = "Programme pluriannuel d’orientation 2022-2025 – Lycée Fénelon de Compiègne (version définitive).pdf"
    data = pdf("Fenelon, Compiegne")
    b = "------------0V2Qd6uBqQ1ZP6xWNNe5X0bG"
    body = flowed("Bonjour,\n\nVeuillez trouver ci-joint le programme pluriannuel d’orientation du lycée, "
                  "validé par le conseil pédagogique du 24 février et présenté au conseil d’administration "
                  "le 28 février 2022.\n\nBien cordialement,\n\n-- \nSecrétariat de direction\n")
    return f"""Content-Type: multipart/mixed; boundary="{b}"
Message-ID: <3b0c0a4e-7d1f-2c55-9a1e-4b7f1c2e8d90@ac-amiens.fr>
Date: Tue, 1 Mar 2022 10:12:33 +0100
MIME-Version: 1.0
User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:102.0) Gecko/20100101
 Thunderbird/102.8.0
Content-Language: fr
To: {PPO}
From: =?UTF-8?Q?Lyc=c3=a9e_F=c3=a9nelon?= <ce.0608139w@ac-amiens.fr>
Subject: =?UTF-8?Q?PPO_2022-2025_du_lyc=c3=a9e_F=c3=a9nelon?=

This is a multi-part message in MIME format.
--{b}
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit

{body}
--{b}
Content-Type: application/pdf;
 name="{ew_b(name, "UTF-8", 39).replace(" ", chr(10) + " ")}"
Content-Disposition: attachment;
{tb_rfc2231("filename", name)}
Content-Transfer-Encoding: base64

{b64(data, 72)}

--{b}--
"""


# --- 4. Apple Mail (macOS): alternative > related > inline PDF ---------------

def apple_mail_macos():
    import unicodedata
    name_nfd = unicodedata.normalize("NFD", "Fiche PPO 2022 révisée.pdf")   # macOS file names are NFD
    data = pdf("Jean Moulin, Clermont")
    b_alt = "Apple-Mail=_5B8E0C1F-3A6D-4F2B-9C7E-1D4A8B2E6F30"
    b_rel = "Apple-Mail=_A1C3E5F7-2B4D-4E6F-8A0B-C2D4E6F8A0B1"
    cid = "7E3A9C51-0B2D-4F68-A1E3-5C7D9E0F2A4B"
    text = ("Bonjour,\n\nVoici notre fiche PPO r\u00e9vis\u00e9e.\n\n\n\nCordialement,\n"
            "Sophie Martin\nSecr\u00e9tariat\n")
    html = ('<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head>'
            '<body style="overflow-wrap: break-word; -webkit-nbsp-mode: space; line-break: after-white-space;">'
            'Bonjour,<div><br></div><div>Voici notre fiche PPO r\u00e9vis\u00e9e.</div><div><br></div>'
            '<div><embed src="cid:' + cid + '" type="application/pdf" apple-inline="yes" id="'
            + cid + '"></div><div><br></div><div>Cordialement,</div><div>Sophie Martin</div>'
            '<div>Secr\u00e9tariat</div></body></html>')
    return f"""From: Sophie Martin <ce.0605239u@ac-amiens.fr>
Content-Type: multipart/alternative;
	boundary="{b_alt}"
Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3696.120.41.1.1\\))
Subject: =?utf-8?Q?Fiche_PPO_r=C3=A9vis=C3=A9e?=
Message-Id: <4C2A7E91-5D3B-4F08-B6A2-9E1C3D5F7A80@ac-amiens.fr>
Date: Tue, 1 Mar 2022 11:04:27 +0100
To: {PPO}
X-Mailer: Apple Mail (2.3696.120.41.1.1)


--{b_alt}
Content-Transfer-Encoding: quoted-printable
Content-Type: text/plain;
	charset=utf-8

{qp(text)}
--{b_alt}
Content-Type: multipart/related;
	type="text/html";
	boundary="{b_rel}"


--{b_rel}
Content-Transfer-Encoding: quoted-printable
Content-Type: text/html;
	charset=utf-8

{qp(html)}
--{b_rel}
Content-Transfer-Encoding: base64
Content-Disposition: inline;
	filename*=utf-8''{"".join(c if c.isalnum() and ord(c) < 128 or c in ".-" else "".join("%%%02X" % x for x in c.encode()) for c in name_nfd)}
Content-Type: application/pdf;
	x-unix-mode=0644;
	name="{ew_q(name_nfd)}"
Content-Id: <{cid}>

{b64(data)}
--{b_rel}--

--{b_alt}--
"""


# --- 5. iPhone Mail: inline attachment, "Envoyé de mon iPhone" ----------------

def iphone():
    name = "Document numérisé.pdf"
    data = pdf("Sacre-Coeur, Bethune")
    b = "Apple-Mail-9F2C4E6A-1B3D-4A5C-8E7F-0A2B4C6D8E01"
    return f"""Content-Type: multipart/mixed; boundary={b}
Content-Transfer-Encoding: 7bit
From: Direction =?utf-8?Q?Sacr=C3=A9-C=C5=93ur?= <direction.sacre-coeur@orange.fr>
Mime-Version: 1.0 (1.0)
Date: Tue, 1 Mar 2022 18:22:05 +0100
Subject: PPO
Message-Id: <8D1B3F5A-7C9E-4B2D-A0F1-3E5C7A9B1D2F@orange.fr>
To: {PPO}
X-Mailer: iPhone Mail (19D52)


--{b}
Content-Type: text/plain;
	charset=utf-8
Content-Transfer-Encoding: quoted-printable

{qp("Bonjour, voici notre PPO ")}
--{b}
Content-Type: application/pdf;
	name="{ew_q(name)}";
	x-apple-part-url=2B6E8A0C-4D1F-4E3A-9B5C-7D9F1A3C5E70
Content-Disposition: inline;
	filename*=utf-8''Document%20num%C3%A9ris%C3%A9.pdf
Content-Transfer-Encoding: base64

{b64(data)}
--{b}
Content-Type: text/plain;
	charset=utf-8
Content-Transfer-Encoding: quoted-printable

{qp(chr(10) + chr(10) + "Envoyé de mon iPhone")}
--{b}--
"""


# --- 6. Gmail web, personal address, UAI in the subject ----------------------

def gmail_uai_subject():
    name = "PPO_2022_Ronsard.pdf"
    data = pdf("Ronsard, Douai")
    b_mix = "000000000000b8a7c405d9281c4e"
    b_alt = "000000000000b8a7c205d9281c4c"
    att = "f_l07x2k9m0"
    text = ("Bonjour,\n\nVeuillez trouver ci-joint le PPO du lyc\u00e9e Ronsard.\n\nCordialement,\n\n"
            "Marie Lefebvre\nSecr\u00e9tariat de direction\n")
    html = ('<div dir="ltr">Bonjour,<div><br></div><div>Veuillez trouver ci-joint le PPO du lyc\u00e9e Ronsard.</div>'
            '<div><br></div><div>Cordialement,</div><div><br></div><div>Marie Lefebvre</div>'
            '<div>Secr\u00e9tariat de direction</div></div>\n')
    return f"""DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;
        d=gmail.com; s=20210112;
        h=mime-version:from:date:message-id:subject:to;
        bh=3oQ9tYVmZl0HkqzT7b1yC8aXoG0nR5kC2wJm4pE6s8U=;
        b=kFq2cYtN4nA0Zr8mWbH5sQ1xLd9eV3gP7uJ6iT0oK2yR4fB8cM1nX5zD3wE7aS9hG
         2jL6pQ0vU4tY8rN1mC5bX9eW3dK7iO0aF4gH8sJ2lZ6qR1uT5yV9nM3cB7xE0wD4kP
         q8fT2hN6jR0vY4mL8bC1xS5wE9aD3gK7oU1iZ5nQ9tF3pH7rM1yV5cJ9lX3eB7wA==
X-Google-DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;
        d=1e100.net; s=20210112;
        h=x-gm-message-state:mime-version:from:date:message-id:subject:to;
        bh=3oQ9tYVmZl0HkqzT7b1yC8aXoG0nR5kC2wJm4pE6s8U=;
        b=Xa1pT5nR9cV3mL7qB1yF5hK9oD3wS7eJ1uG5iN9tA3zC7xM1bQ5vH9lP3fE7kY1rW
         5sD9jU3nO7gT1aI5cX9mB3qL7wF1eR5yK9hV3pZ7tN1dJ5uC9oG3iA7sM1xE5lQ==
X-Gm-Message-State: AOAM530kV3nP7rT1xB5mQ9cF3hJ7lN1pR5tV9zB3dF7hK1mP5rT9
	wX3bF7jL1nR5vZ9cH3kM7pS1uX5yB9dG3jN7qT1wZ5cF9hL3mQ7rV1xA5dG9kN3p==
X-Google-Smtp-Source: ABdhPJzY7k3mQ1vT5xB9dF3hL7nR1tW5zC9gJ3mP7sV1yB5eH9kN3qT7wZ1cF5iL9oR3uX7aD1gK5nQ9t
X-Received: by 2002:a05:6402:2753:b0:413:7645:fa51 with SMTP id
 z19-20020a0564022753b00413764fa51mr24891737edd.201.1646139807523; Tue, 01 Mar
 2022 05:03:27 -0800 (PST)
MIME-Version: 1.0
From: Marie Lefebvre <marie.lefebvre59@gmail.com>
Date: Tue, 1 Mar 2022 14:03:27 +0100
Message-ID: <CAF3k+YxQm7vNp2T9rK4wB8cZ1dL5hJ0sG6aE3uM9yR2nX7iW4Q@mail.gmail.com>
Subject: =?UTF-8?Q?PPO_2022_=2D_Lyc=C3=A9e_Ronsard_=2D_0595391P?=
To: {PPO}
Content-Type: multipart/mixed; boundary="{b_mix}"

--{b_mix}
Content-Type: multipart/alternative; boundary="{b_alt}"

--{b_alt}
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

{qp(text)}
--{b_alt}
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

{qp(html)}
--{b_alt}--
--{b_mix}
Content-Type: application/pdf; name="{name}"
Content-Disposition: attachment; filename="{name}"
Content-Transfer-Encoding: base64
Content-ID: <{att}>
X-Attachment-Id: {att}

{b64(data)}
--{b_mix}--
"""


# --- 7. Zimbra webmail (académie webmail) -------------------------------------

def zimbra():
    name = "PPO Lavoisier 2022.pdf"
    data = pdf("Lavoisier, Chantilly")
    b_mix = "----=_Part_4821935_1290345872.1646144864510"
    b_alt = "----=_Part_4821936_1468092517.1646144864510"
    text = "Bonjour,\n\nVous trouverez ci-joint le PPO du lycée Lavoisier.\n\nCordialement\n\nLa direction\n"
    html = ('<html><body><div style="font-family: arial, helvetica, sans-serif; font-size: 12pt; color: #000000">'
            '<div>Bonjour,</div><div><br data-mce-bogus="1"></div><div>Vous trouverez ci-joint le PPO du lyc&eacute;e '
            'Lavoisier.</div><div><br data-mce-bogus="1"></div><div>Cordialement</div><div><br data-mce-bogus="1"></div>'
            '<div>La direction</div></div></body></html>')
    return f"""Date: Tue, 1 Mar 2022 15:27:44 +0100 (CET)
From: Lycee Lavoisier <ce.0600263k@ac-amiens.fr>
To: {PPO}
Message-ID: <1523746021.4821937.1646144864512.JavaMail.zimbra@ac-amiens.fr>
Subject: PPO 2022
MIME-Version: 1.0
Content-Type: multipart/mixed; 
	boundary="{b_mix}"
X-Originating-IP: [10.60.20.31]
X-Mailer: Zimbra 8.8.15_GA_4257 (ZimbraWebClient - FF97 (Win)/8.8.15_GA_4257)
Thread-Index: 5JyMzC8tV0qQdRgRlA9X2n1lGkZwXg==
Thread-Topic: PPO 2022

------=_Part_4821935_1290345872.1646144864510
Content-Type: multipart/alternative; 
	boundary="{b_alt}"

------=_Part_4821936_1468092517.1646144864510
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

{qp(text)}
------=_Part_4821936_1468092517.1646144864510
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 7bit

{html}
------=_Part_4821936_1468092517.1646144864510--

------=_Part_4821935_1290345872.1646144864510
Content-Type: application/pdf; name="{name}"
Content-Disposition: attachment; filename="{name}"
Content-Transfer-Encoding: base64

{b64(data)}
------=_Part_4821935_1290345872.1646144864510--
"""


# --- 8. Copiers' scan-to-mail --------------------------------------------------

def scan_sharp():
    name = "doc01234520220301100236.pdf"
    data = pdf("scan Sharp")
    b = "=_b3e9c1a7d5f2048e6a0c8b4d2f7e1935"
    body = ("Reply to: scanner@lycee-jean-rostand.fr <scanner@lycee-jean-rostand.fr>\n"
            "Device Name: MX-M3071\nDevice Model: MX-M3071\nLocation: Secretariat\n\n"
            "File Format: PDF (High)\nResolution: 200dpi x 200dpi\n\n"
            "Attached file is scanned image in PDF format.\n"
            "Use Acrobat(R)Reader(R) or Adobe(R)Reader(R) of Adobe Systems Incorporated to view the document.\n"
            "Adobe(R)Reader(R) can be downloaded from the following URL:\n"
            "Adobe, the Adobe logo, Acrobat, the Adobe PDF logo, and Reader are registered trademarks or "
            "trademarks of Adobe Systems Incorporated in the United States and other countries.\n\n"
            "http://www.adobe.com/\n")
    return f"""Date: Tue, 01 Mar 2022 10:02:36 +0100
From: "MX-M3071" <scanner@lycee-jean-rostand.fr>
To: <{PPO}>
Subject: Scanned image from MX-M3071
Message-Id: <20220301100236.0123450.scanner@lycee-jean-rostand.fr>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="{b}"

--{b}
Content-Type: text/plain; charset="US-ASCII"
Content-Transfer-Encoding: 7bit

{body}
--{b}
Content-Type: application/pdf; name="{name}"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="{name}"

{b64(data)}
--{b}--
"""


def scan_xerox_uai():
    name = "Scanned from a Xerox Multifunction Printer.pdf"
    data = pdf("scan Xerox, Anatole France")
    b = "----_=_NextPart_001_01D82D4A.7F3E21C0"
    body = ("Please open the attached document. It was scanned and sent to you using a Xerox "
            "Multifunction Printer.\n\nAttachment File Type: PDF, Multi-Page\n\n"
            "Multifunction Printer Location: \nDevice Name: XRX9C934E6A1B2C\n\n"
            "For more information on Xerox products and solutions, please visit http://www.xerox.com\n")
    return f"""MIME-Version: 1.0
Date: Tue, 01 Mar 2022 10:15:02 +0100
Message-ID: <XRX9C934E6A1B2C.1646125702.7@lycee-anatole-france.fr>
From: "Xerox AltaLink C8030" <scanner@lycee-anatole-france.fr>
To: {PPO}
Subject: PPO 0623052F
X-Mailer: Xerox AltaLink C8030 (Xerox MFP)
Content-Type: multipart/mixed; boundary="{b}"

This is a multi-part message in MIME format.

--{b}
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit

{body}
--{b}
Content-Type: application/pdf; name="{name}"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="{name}"

{b64(data)}
--{b}--
"""


# --- 9. Windows "Envoyer vers > Destinataire" (Simple MAPI, Outlook 16) ------

def mapi_sendto():
    name = "PPO 2022.pdf"
    data = pdf("Andre Malraux, Roubaix")
    b_mix = "----=_NextPart_000_0001_01D82D64.EBF3DA30"
    b_alt = "----=_NextPart_001_0002_01D82D64.EBF3DA30"
    paras = ["Votre message est prêt à être envoyé avec les pièces jointes suivantes :", "", name, "",
             "Remarque : pour vous protéger contre les virus, les programmes de messagerie peuvent empêcher "
             "l’envoi ou la réception de certains types de pièces jointes. Vérifiez les paramètres de sécurité "
             "de votre messagerie pour déterminer comment les pièces jointes sont gérées."]
    text = "\n".join(paras) + "\n"
    return f"""From: =?windows-1252?Q?Lyc=E9e_Andr=E9_Malraux?= <ce.0598460a@ac-lille.fr>
To: <{PPO}>
Subject: Envoi d'un message : {name}
Date: Tue, 1 Mar 2022 11:20:45 +0100
Message-ID: <000001d82d5c$8a2f1e30$9e8d5a90$@ac-lille.fr>
MIME-Version: 1.0
Content-Type: multipart/mixed;
	boundary="{b_mix}"
X-Mailer: Microsoft Outlook 16.0
Thread-Index: AdgtXIorjSbQp6yNRk2v1nM3Yp0S8w==
Content-Language: fr

This is a multipart message in MIME format.

--{b_mix}
Content-Type: multipart/alternative;
	boundary="{b_alt}"


--{b_alt}
Content-Type: text/plain;
	charset="windows-1252"
Content-Transfer-Encoding: quoted-printable

{qp(text, "cp1252")}
--{b_alt}
Content-Type: text/html;
	charset="windows-1252"
Content-Transfer-Encoding: quoted-printable

{qp(word_html(paras, "windows-1252"), "cp1252")}
--{b_alt}--

--{b_mix}
Content-Type: application/pdf;
	name="{name}"
Content-Transfer-Encoding: base64
Content-Disposition: attachment;
	filename="{name}"

{b64(data)}

--{b_mix}--
"""


# --- 10. Two different messages, one Message-ID (ENT gateway, PHPMailer) -----

def ent_same_message_id(uai, mail, town_tag, file_name):
    data = pdf("ENT " + town_tag)
    b = "b1_Xq7Vt2cN9mR4kP0wL5jH8sD3fG6aZ1yU"
    return f"""Date: Tue, 1 Mar 2022 16:00:00 +0100
To: {PPO}
From: Messagerie ENT <{mail}>
Subject: =?UTF-8?Q?D=C3=A9p=C3=B4t_PPO?=
Message-ID: <Xq7Vt2cN9mR4kP0wL5jH8sD3fG6aZ1yU@ent.hautsdefrance.fr>
X-Mailer: PHPMailer 6.5.0 (https://github.com/PHPMailer/PHPMailer)
MIME-Version: 1.0
Content-Type: multipart/mixed;
 boundary="{b}"
Content-Transfer-Encoding: 8bit

This is a multi-part message in MIME format.
--{b}
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

Document déposé depuis l'ENT par l'établissement.

--{b}
Content-Type: application/pdf; name={file_name}
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename={file_name}

{b64(data)}

--{b}--
"""


# --- 11. No Message-ID (the lycée website's PHP mail()) ----------------------

def no_message_id():
    name = "ppo-2022.pdf"
    data = pdf("Albert Camus, Saint-Omer")
    b = "==Multipart_Boundary_x3f9a1c7e5b2d8046x"
    return f"""To: {PPO}
Subject: PPO 2022
X-PHP-Originating-Script: 33:envoi_document.php
From: ce.0623459y@ac-lille.fr
MIME-Version: 1.0
Content-Type: multipart/mixed;
 boundary="{b}"
Date: Tue, 1 Mar 2022 12:45:09 +0100

This is a multi-part message in MIME format.

--{b}
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: 7bit

PPO 2022 envoye depuis le site du lycee.

--{b}
Content-Type: application/pdf; name="{name}"
Content-Disposition: attachment; filename="{name}"
Content-Transfer-Encoding: base64

{b64(data)}

--{b}--
"""


# --- 12. Thunderbird 115, delivered twice (same bytes) -----------------------

def thunderbird_115_twice():
    name = "PPO Gambetta 2022.pdf"
    data = pdf("Gambetta, Avesnes-sur-Helpe")
    b = "------------mR7xL2vQ9cN4tB8kF1wP3sZ6"
    body = flowed("Bonjour,\n\nCi-joint le PPO du lycée Gambetta.\n\nCordialement,\nLa direction\n")
    return f"""Content-Type: multipart/mixed; boundary="{b}"
Message-ID: <9d4e2f7a-1c3b-4e8d-a6f0-5b2c7d9e1f30@ac-lille.fr>
Date: Tue, 1 Mar 2022 13:58:02 +0100
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Content-Language: fr
To: {PPO}
From: ce.0591293k@ac-lille.fr
Subject: PPO 2022

This is a multi-part message in MIME format.
--{b}
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit

{body}
--{b}
Content-Type: application/pdf; name="{name}"
Content-Disposition: attachment; filename="{name}"
Content-Transfer-Encoding: base64

{b64(data, 72)}

--{b}--
"""


# --- 13. Forwarded as attachment (Thunderbird, message/rfc822) ---------------

def forward_as_attachment():
    inner_name = "PPO_2022.pdf"
    data = pdf("Jules Ferry, Cambrai")
    ib = "------------Lk3nV8qX1cT6wB9mR2pF5sH0"
    inner = f"""Return-Path: <ce.0595549l@ac-lille.fr>
Received: from smtp.ac-lille.fr (smtp.ac-lille.fr [193.49.48.20])
	by mx.laposte.net with ESMTPS id 4K7tWq1Zx2z9sQm
	for <c.dubois59@laposte.net>; Mon, 28 Feb 2022 17:41:09 +0100 (CET)
Content-Type: multipart/mixed; boundary="{ib}"
Message-ID: <5f1a3c7e-9b2d-4e6f-8a0c-2d4f6b8e0a13@ac-lille.fr>
Date: Mon, 28 Feb 2022 17:41:05 +0100
MIME-Version: 1.0
User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:102.0) Gecko/20100101
 Thunderbird/102.8.0
Content-Language: fr
To: c.dubois59@laposte.net
From: ce.0595549l@ac-lille.fr
Subject: PPO

This is a multi-part message in MIME format.
--{ib}
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit

Bonjour,

Voici le PPO à transmettre à la région.

--{ib}
Content-Type: application/pdf; name="{inner_name}"
Content-Disposition: attachment; filename="{inner_name}"
Content-Transfer-Encoding: base64

{b64(data, 72)}

--{ib}--
"""
    b = "------------Qz8rT3mW6vN1cK4xB7pL0sF2"
    body = flowed("Bonjour,\n\nJe vous transfère le message du lycée reçu hier sur ma boîte personnelle.\n\n"
                  "Bien cordialement,\nC. Dubois\n")
    return f"""Content-Type: multipart/mixed; boundary="{b}"
Message-ID: <b2e4f6a8-0c1d-4e3f-9a5b-7c9d1e3f5a70@laposte.net>
Date: Tue, 1 Mar 2022 08:05:51 +0100
MIME-Version: 1.0
User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:102.0) Gecko/20100101
 Thunderbird/102.8.0
Content-Language: fr
To: {PPO}
From: Christine Dubois <c.dubois59@laposte.net>
Subject: Fwd: PPO

This is a multi-part message in MIME format.
--{b}
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit

{body}
--{b}
Content-Type: message/rfc822; charset=UTF-8; name="PPO.eml"
Content-Disposition: attachment; filename="PPO.eml"
Content-Transfer-Encoding: 8bit

{inner}
--{b}--
"""


# --- 14. Forwarded inline -------------------------------------------------------

def forward_inline_outlook_fr():
    name = "PPO 2022 Lycée Charles de Gaulle.pdf"
    data = pdf("Charles de Gaulle, Douai")
    b_mix = "----=_NextPart_000_0015_01D82D61.3C8F0A20"
    b_alt = "----=_NextPart_001_0016_01D82D61.3C8F0A20"
    paras = ["Bonjour,", "", "Je vous transfère le PPO reçu ce matin.", "", "Cordialement,", "",
             "IEN-IO Douai", "",
             "De : Secrétariat <ce.0591637j@ac-lille.fr> ",
             "Envoyé : mardi 1 mars 2022 09:15",
             "À : ien-io.douai@ac-lille.fr",
             "Objet : PPO 2022", "",
             "Bonjour,", "", "Ci-joint notre PPO.", "", "Le secrétariat"]
    text = "\n".join(paras) + "\n"
    return f"""From: IEN-IO Douai <ien-io.douai@ac-lille.fr>
To: <{PPO}>
Subject: TR: PPO 2022
Date: Tue, 1 Mar 2022 10:48:17 +0100
Message-ID: <001501d82d59$29c1e270$7d45a750$@ac-lille.fr>
MIME-Version: 1.0
Content-Type: multipart/mixed;
	boundary="{b_mix}"
X-Mailer: Microsoft Outlook 16.0
Thread-Index: AdgtTjmyWJ1+Hk4hR4ukZ2T3BxHjuQAFe3Xw
Content-Language: fr

This is a multipart message in MIME format.

--{b_mix}
Content-Type: multipart/alternative;
	boundary="{b_alt}"


--{b_alt}
Content-Type: text/plain;
	charset="utf-8"
Content-Transfer-Encoding: quoted-printable

{qp(text)}
--{b_alt}
Content-Type: text/html;
	charset="utf-8"
Content-Transfer-Encoding: quoted-printable

{qp(word_html(paras))}
--{b_alt}--

--{b_mix}
Content-Type: application/pdf;
	name="{ew_b(name)}"
Content-Transfer-Encoding: base64
Content-Disposition: attachment;
	filename="{ew_b(name)}"

{b64(data)}

--{b_mix}--
"""


def forward_inline_gmail_en():
    name = "PPO 2022.pdf"
    data = pdf("Jean Jaures, Peronne")
    b_mix = "000000000000f1e2a905d9290b7d"
    b_alt = "000000000000f1e2a705d9290b7b"
    att = "f_l07yq3hd0"
    text = ("Hello, this reached me by mistake, forwarding it to you.\n\nPierre\n\n"
            "---------- Forwarded message ---------\n"
            "From: Lyc\u00e9e Jean Jaur\u00e8s <ce.0806670r@ac-amiens.fr>\n"
            "Date: Tue, Mar 1, 2022 at 9:47 AM\n"
            "Subject: PPO 2022\n"
            "To: <p.martin.orientation@gmail.com>\n\n\n"
            "Bonjour,\n\nVeuillez trouver ci-joint notre PPO.\n\nCordialement\n")
    html = ('<div dir="ltr">Hello, this reached me by mistake, forwarding it to you.<div><br></div><div>Pierre<br><br>'
            '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">---------- Forwarded message ---------<br>'
            'From: <strong class="gmail_sendername" dir="auto">Lyc\u00e9e Jean Jaur\u00e8s</strong> <span dir="auto">'
            '&lt;<a href="mailto:ce.0806670r@ac-amiens.fr">ce.0806670r@ac-amiens.fr</a>&gt;</span><br>'
            'Date: Tue, Mar 1, 2022 at 9:47 AM<br>Subject: PPO 2022<br>To: &lt;<a href="mailto:p.martin.orientation@gmail.com">'
            'p.martin.orientation@gmail.com</a>&gt;<br></div><br><br>Bonjour,<br><br>Veuillez trouver ci-joint notre PPO.'
            '<br><br>Cordialement<br></div></div></div>\n')
    return f"""MIME-Version: 1.0
From: Pierre Martin <p.martin.orientation@gmail.com>
Date: Tue, 1 Mar 2022 14:31:02 +0100
Message-ID: <CAHx7pQ2mV9kT4nB8cR1wF5zL3dJ6sG0aE7uY2iN9oX4hK1qM5w@mail.gmail.com>
Subject: Fwd: PPO 2022
To: {PPO}
Content-Type: multipart/mixed; boundary="{b_mix}"
X-Gm-Message-State: AOAM533pT7vX1bF5jL9nR3cH7kM1pS5uX9yB3dG7jN1qT5wZ9cF3hL7mQ1rV5x
	A9dG3kN7p==

--{b_mix}
Content-Type: multipart/alternative; boundary="{b_alt}"

--{b_alt}
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

{qp(text)}
--{b_alt}
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

{qp(html)}
--{b_alt}--
--{b_mix}
Content-Type: application/pdf; name="{name}"
Content-Disposition: attachment; filename="{name}"
Content-Transfer-Encoding: base64
Content-ID: <{att}>
X-Attachment-Id: {att}

{b64(data)}
--{b_mix}--
"""


def forward_inline_thunderbird_fr():
    name = "PPO-2022-Ronsard-Amiens.pdf"
    data = pdf("Ronsard, Amiens")
    b = "------------Hc5vM8tQ1xR4nB7kW0pZ3sL6"
    body = ("Bonjour,\n\nJe vous transfère le document du lycée.\n\nCordialement,\nL. Bernard\n\n\n"
            "-------- Message transféré --------\n"
            "Sujet : \tPPO 2022\n"
            "Date : \tTue, 1 Mar 2022 09:12:44 +0100\n"
            "De : \tSecrétariat du lycée <ce.0800586c@ac-amiens.fr>\n"
            "Pour : \tdocumentation.cdi@free.fr\n\n\n\n"
            "Bonjour,\n\nMerci de transmettre notre PPO.\n\n")
    return f"""Content-Type: multipart/mixed; boundary="{b}"
Message-ID: <c7e9a1b3-5d2f-4a6c-8e0b-1f3a5c7e9b20@free.fr>
Date: Tue, 1 Mar 2022 09:40:12 +0100
MIME-Version: 1.0
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:102.0) Gecko/20100101
 Thunderbird/102.8.0
Content-Language: fr
To: {PPO}
From: Laurence Bernard <documentation.cdi@free.fr>
Subject: =?UTF-8?Q?Fwd=3a_PPO_2022?=

This is a multi-part message in MIME format.
--{b}
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit

{body}
--{b}
Content-Type: application/pdf; name="{name}"
Content-Disposition: attachment; filename="{name}"
Content-Transfer-Encoding: base64

{b64(data, 72)}

--{b}--
"""


# --- 15. Reply to our reminder, from a personal address (Outlook.com) --------

def reply_to_reminder():
    name = "PPO.pdf"
    data = pdf("Henri Wallon, Lens")
    mid = "AM0P190MB07124F2A9C6B1E3D5F7A9B2C0E4D6"
    host = "AM0P190MB0712.EURP190.PROD.OUTLOOK.COM"
    b_mix = "_004_%s%s_" % (mid, host.replace(".", "")[:18])
    b_alt = "_000_%s%s_" % (mid, host.replace(".", "")[:18])
    text = "Bonjour,\n\nVoici le document demandé.\n\nBien à vous\n"
    html = ('<html><head>\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n'
            '<style type="text/css" style="display:none;"> P {margin-top:0;margin-bottom:0;} </style>\n</head>\n'
            '<body dir="ltr">\n<div style="font-family: Calibri, Arial, Helvetica, sans-serif; font-size: 12pt; '
            'color: rgb(0, 0, 0);">\nBonjour,</div>\n<div style="font-family: Calibri, Arial, Helvetica, sans-serif; '
            'font-size: 12pt; color: rgb(0, 0, 0);">\n<br>\n</div>\n<div style="font-family: Calibri, Arial, Helvetica, '
            'sans-serif; font-size: 12pt; color: rgb(0, 0, 0);">\nVoici le document demand\u00e9.</div>\n'
            '<div style="font-family: Calibri, Arial, Helvetica, sans-serif; font-size: 12pt; color: rgb(0, 0, 0);">\n'
            '<br>\n</div>\n<div style="font-family: Calibri, Arial, Helvetica, sans-serif; font-size: 12pt; '
            'color: rgb(0, 0, 0);">\nBien \u00e0 vous</div>\n</body>\n</html>\n')
    return f"""From: Direction <dir.lycee.hw@outlook.fr>
To: "{PPO}"
	<{PPO}>
Subject: Document PPO
Thread-Topic: Document PPO
Thread-Index: AQHYL3Jc8kq1nT6xQ0mPZb5yXvC2wA==
Date: Fri, 4 Mar 2022 09:52:31 +0000
Message-ID:
 <{mid}@{host}>
References: {{{{REMINDER_MESSAGE_ID:0624400W}}}}
In-Reply-To: {{{{REMINDER_MESSAGE_ID:0624400W}}}}
Accept-Language: fr-FR, en-US
Content-Language: fr-FR
X-MS-Has-Attach: yes
X-MS-TNEF-Correlator:
msip_labels:
x-ms-publictraffictype: Email
Content-Type: multipart/mixed;
	boundary="{b_mix}"
MIME-Version: 1.0

--{b_mix}
Content-Type: multipart/alternative;
	boundary="{b_alt}"

--{b_alt}
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: base64

{b64(text.replace(chr(10), chr(13) + chr(10)).encode())}

--{b_alt}
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

{qp(html)}
--{b_alt}--

--{b_mix}
Content-Type: application/pdf; name="{name}"
Content-Description: {name}
Content-Disposition: attachment; filename="{name}"; size={len(data)};
	creation-date="Fri, 04 Mar 2022 09:52:19 GMT";
	modification-date="Fri, 04 Mar 2022 09:52:31 GMT"
Content-Transfer-Encoding: base64

{b64(data)}

--{b_mix}--
"""


# --- Exchange out-of-office answering our acknowledgement (ignored) ----------

def exchange_out_of_office():
    mid = "PR1P264MB1781B7E2D4F6A8C0E2B4D6F8A0C22"
    host = "PR1P264MB1781.FRAP264.PROD.OUTLOOK.COM"
    b = "_000_%s%s_" % (mid, host.replace(".", "")[:18])
    text = ("Bonjour,\n\nLe secrétariat est fermé jusqu'au 7 mars. Pour toute urgence, contactez le standard.\n")
    return f"""From: =?iso-8859-1?Q?Secr=E9tariat?= <ce.0621402m@ac-lille.fr>
To: "{PPO}" <{PPO}>
Subject: =?iso-8859-1?Q?R=E9ponse_automatique=A0:_Accus=E9_de_r=E9ception_de_votre_PP?=
 =?iso-8859-1?Q?O?=
Thread-Topic: =?iso-8859-1?Q?Accus=E9_de_r=E9ception_de_votre_PPO?=
Thread-Index: AQHYLXe1pV8nR2cK0kmT4hJ6xZ9b7A==
Date: Tue, 1 Mar 2022 10:05:02 +0000
Message-ID: <{mid}@{host}>
In-Reply-To: <ack.0621402m.20220301@region-academique-hauts-de-france.fr>
Accept-Language: fr-FR, en-US
Content-Language: fr-FR
X-MS-Has-Attach:
X-Auto-Response-Suppress: All
X-MS-Exchange-Inbox-Rules-Loop: ce.0621402m@ac-lille.fr
X-MS-TNEF-Correlator:
Auto-Submitted: auto-generated
x-ms-exchange-generated-message-source: Mailbox Rules Agent
Content-Type: multipart/alternative;
	boundary="{b}"
MIME-Version: 1.0

--{b}
Content-Type: text/plain; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable

{qp(text, "iso-8859-1")}
--{b}
Content-Type: text/html; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable

{qp("<html><head><meta http-equiv=" + chr(34) + "Content-Type" + chr(34) + " content=" + chr(34) + "text/html; charset=iso-8859-1" + chr(34) + "></head><body><p>" + text.replace(chr(10), "<br>") + "</p></body></html>", "iso-8859-1")}
--{b}--
"""


SHAPES = {
    "outlook16_exchange_html_qp.eml": outlook_exchange,
    "outlook_rich_text_winmail_dat.eml": outlook_tnef,
    "thunderbird102_rfc2231_flowed.eml": thunderbird_102,
    "apple_mail_macos_related_inline_pdf.eml": apple_mail_macos,
    "iphone_inline_pdf.eml": iphone,
    "gmail_web_personal_uai_in_subject.eml": gmail_uai_subject,
    "zimbra_webmail.eml": zimbra,
    "scan_sharp_no_uai.eml": scan_sharp,
    "scan_xerox_uai_in_subject.eml": scan_xerox_uai,
    "windows_sendto_mapi_outlook16.eml": mapi_sendto,
    "duplicate_message_id_first.eml":
        lambda: ent_same_message_id("0597757L", "ce.0597757l@ac-lille.fr", "Helene Boucher, Tourcoing", "PPO_Helene_Boucher.pdf"),
    "duplicate_message_id_second.eml":
        lambda: ent_same_message_id("0592587S", "ce.0592587s@ac-lille.fr", "Jean Rostand, Cambrai", "PPO_Jean_Rostand.pdf"),
    "no_message_id_php_mail.eml": no_message_id,
    "thunderbird115_delivered_twice.eml": thunderbird_115_twice,
    "forward_as_attachment_thunderbird.eml": forward_as_attachment,
    "forward_inline_outlook16_fr.eml": forward_inline_outlook_fr,
    "forward_inline_gmail_en.eml": forward_inline_gmail_en,
    "forward_inline_thunderbird_fr.eml": forward_inline_thunderbird_fr,
    "reply_to_reminder_outlook_com.eml": reply_to_reminder,
    "exchange_out_of_office.eml": exchange_out_of_office,
}

if __name__ == "__main__":
    for fname, make in SHAPES.items():
        write(fname, make())
    print("wrote %d shapes to %s" % (len(SHAPES), HERE))
