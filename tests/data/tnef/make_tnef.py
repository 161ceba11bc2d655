#!/usr/bin/env python3
"""Writes the TNEF test data of tests/parsers/test_tnef.cpp: a winmail.dat as
Outlook writes it (MS-OXTNEF), the Outlook message that carries it, and the
files it holds (payload/), to compare the unpacked bytes with.

    python3 tests/data/tnef/make_tnef.py     # rewrites the files next to it

Deterministic: same output on every run (fixed dates, fixed ZIP timestamps).
"""
import base64
import io
import os
import struct
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))

# Attribute ids (level 1: message, level 2: attachment) and MAPI property types.
ATT_TNEF_VERSION = 0x00089006
ATT_OEM_CODEPAGE = 0x00069007
ATT_MESSAGE_CLASS = 0x00078008
ATT_DATE_SENT = 0x00038005
ATT_MAPI_PROPS = 0x00069003
ATT_ATTACH_RENDDATA = 0x00069002
ATT_ATTACH_TITLE = 0x00018010
ATT_ATTACH_DATA = 0x0006800F
ATT_ATTACHMENT = 0x00069005
PT_LONG, PT_STRING8, PT_UNICODE, PT_BINARY = 0x0003, 0x001E, 0x001F, 0x0102
PR_SUBJECT, PR_BODY = 0x0037, 0x1000
PR_ATTACH_METHOD, PR_ATTACH_LONG_FILENAME, PR_ATTACH_EXTENSION = 0x3705, 0x3707, 0x3703


def attribute(level, att_id, data):
    checksum = sum(data) & 0xFFFF
    return struct.pack("<BII", level, att_id, len(data)) + data + struct.pack("<H", checksum)


def pad4(b):
    return b + b"\0" * (-len(b) % 4)


def mapi_props(props):
    """props: list of (type, id, value) with value an int or bytes."""
    out = struct.pack("<I", len(props))
    for ptype, pid, value in props:
        out += struct.pack("<I", (pid << 16) | ptype)
        if ptype == PT_LONG:
            out += struct.pack("<I", value)
        else:  # counted value: one value, its size, the bytes padded to 4
            out += struct.pack("<II", 1, len(value)) + pad4(value)
    return out


def string8(s):
    return s.encode("cp1252") + b"\0"


def unicode(s):
    return s.encode("utf-16-le") + b"\0\0"


def renddata():
    # atyp = file, position unknown, no picture size, flags 0
    return struct.pack("<HIHHI", 1, 0xFFFFFFFF, 0xFFFF, 0xFFFF, 0)


def dtr(y, mo, d, h, mi, s, dow):
    return struct.pack("<7H", y, mo, d, h, mi, s, dow)


def pdf_payload():
    # A small but well-formed one-page PDF (xref offsets computed).
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        None,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    text = b"BT /F1 14 Tf 72 760 Td (Projet pedagogique d'orientation 2022 - Lycee Gambetta) Tj ET"
    objs[3] = b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream"
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


def docx_payload():
    # DOCX-like: a ZIP with the two parts Word needs to recognise its type.
    members = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?>\n<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        "word/document.xml": '<?xml version="1.0" encoding="UTF-8"?>\n<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>Projet d’orientation — élèves de Terminale, lycée Gambetta</w:t></w:r></w:p></w:body></w:document>",
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in members.items():
            info = zipfile.ZipInfo(name, date_time=(2022, 3, 14, 10, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text.encode("utf-8"))
    return buf.getvalue()


def text_payload():
    return "Récapitulatif des effectifs : 3 classes de Terminale.\r\n".encode("cp1252")


PDF_NAME = "PPO 2022 – Lycée Gambetta.pdf"            # long name as PT_UNICODE
DOCX_NAME = "Projet d’orientation – Élèves de Terminale.docx"  # long name as PT_STRING8 (cp1252)
TXT_TITLE = "Récap.txt"                                # no long name: the title only
BODY = "Bonjour,\r\n\r\nVeuillez trouver ci-joint le PPO du lycée Gambetta.\r\n\r\nCordialement,\r\nLe secrétariat\r\n"


def winmail():
    pdf, docx, txt = pdf_payload(), docx_payload(), text_payload()
    out = struct.pack("<IH", 0x223E9F78, 0x1234)
    out += attribute(1, ATT_TNEF_VERSION, struct.pack("<I", 0x00010000))
    out += attribute(1, ATT_OEM_CODEPAGE, struct.pack("<II", 1252, 0))
    out += attribute(1, ATT_MESSAGE_CLASS, b"IPM.Microsoft Mail.Note\0")
    out += attribute(1, ATT_DATE_SENT, dtr(2022, 3, 14, 10, 30, 0, 1))
    out += attribute(1, ATT_MAPI_PROPS, mapi_props([
        (PT_STRING8, PR_SUBJECT, string8("PPO 2022 – Lycée Gambetta")),
        (PT_STRING8, PR_BODY, string8(BODY)),
    ]))
    for data, title, props in (
        (pdf, "PPO202~1.PDF", [(PT_LONG, PR_ATTACH_METHOD, 1),
                               (PT_STRING8, PR_ATTACH_EXTENSION, string8(".pdf")),
                               (PT_UNICODE, PR_ATTACH_LONG_FILENAME, unicode(PDF_NAME))]),
        (docx, "PROJET~1.DOC", [(PT_LONG, PR_ATTACH_METHOD, 1),
                                (PT_STRING8, PR_ATTACH_LONG_FILENAME, string8(DOCX_NAME))]),
        (txt, TXT_TITLE, [(PT_LONG, PR_ATTACH_METHOD, 1)]),
    ):
        out += attribute(2, ATT_ATTACH_RENDDATA, renddata())
        out += attribute(2, ATT_ATTACH_TITLE, string8(title))
        out += attribute(2, ATT_ATTACH_DATA, data)
        out += attribute(2, ATT_ATTACHMENT, mapi_props(props))
    return out, {"payload/ppo_gambetta.pdf": pdf, "payload/projet_orientation.docx": docx,
                 "payload/recap.txt": txt}


def eml(dat):
    b64 = base64.b64encode(dat).decode("ascii")
    lines = "\r\n".join(b64[i:i + 76] for i in range(0, len(b64), 76))
    return ("From: =?iso-8859-1?Q?Secr=E9tariat_Lyc=E9e_Gambetta?= <ce.0596082r@ac-lille.fr>\r\n"
            "To: <ppo@ac-lille.fr>\r\n"
            "Subject: =?iso-8859-1?Q?PPO_2022_=96_Lyc=E9e_Gambetta?=\r\n"
            "Date: Mon, 14 Mar 2022 10:30:00 +0100\r\n"
            "Message-ID: <000001d83789$4b2c1e40$e1845ac0$@ac-lille.fr>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed;\r\n"
            "\tboundary=\"----=_NextPart_000_0001_01D83791.ACF08640\"\r\n"
            "X-Mailer: Microsoft Outlook 16.0\r\n"
            "X-MS-TNEF-Correlator: 00000000A1B2C3D4E5F60718293A4B5C6D7E8F9007004E5C\r\n"
            "Content-Language: fr\r\n"
            "\r\n"
            "This is a multipart message in MIME format.\r\n"
            "\r\n"
            "------=_NextPart_000_0001_01D83791.ACF08640\r\n"
            "Content-Type: text/plain;\r\n"
            "\tcharset=\"iso-8859-1\"\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n"
            "\r\n"
            "Bonjour,\r\n"
            "\r\n"
            "Veuillez trouver ci-joint le PPO du lyc=E9e Gambetta.\r\n"
            "\r\n"
            "Cordialement,\r\n"
            "Le secr=E9tariat\r\n"
            "\r\n"
            "------=_NextPart_000_0001_01D83791.ACF08640\r\n"
            "Content-Type: application/ms-tnef;\r\n"
            "\tname=\"winmail.dat\"\r\n"
            "Content-Transfer-Encoding: base64\r\n"
            "Content-Disposition: attachment;\r\n"
            "\tfilename=\"winmail.dat\"\r\n"
            "\r\n" + lines + "\r\n"
            "\r\n"
            "------=_NextPart_000_0001_01D83791.ACF08640--\r\n").encode("ascii")


def main():
    dat, payloads = winmail()
    files = {"winmail.dat": dat, "outlook_winmail.eml": eml(dat), **payloads}
    for rel, data in files.items():
        path = os.path.join(HERE, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        print(f"{rel}: {len(data)} bytes")


if __name__ == "__main__":
    main()
