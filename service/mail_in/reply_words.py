"""What mail clients write around a reply, per language: plain data for `reply_text`.

The rules in `reply_text` look for structure first (a date-and-address line ending in a
colon, a block of `Key: value` lines, quote marks, separators); these tables are the words
that structure is made of in each language. Adding a language is adding words here.
"""

from __future__ import annotations

# Verbs that end an attribution line ("On <date>, <name> wrote:"), or stand just before the
# date in the name-first form ("<name> schrieb am <date>:").
WROTE_WORDS: tuple[str, ...] = (
    "wrote", "writes", "said", "says",  # English
    "schrieb", "schrieben Sie", "geschrieben",  # German
    "a écrit", "écrit", "nous a dit",  # French
    "escribió", "escribio",  # Spanish
    "schreef", "het volgende geschreven", "heeft het volgende geschreven",  # Dutch
    "escreveu",  # Portuguese
    "ha scritto", "scritto",  # Italian
    "skrev",  # Danish, Norwegian, Swedish
    "kirjoitti",  # Finnish
    "napisał(a)", "napisał", "napisała",  # Polish
    "napsal(a)", "napsal", "napsala",  # Czech
    "şunu yazdı", "şunları yazdı", "yazdı",  # Turkish
    "написал(а)", "написал", "написала", "писал", "писала",  # Russian
    "пише", "написав", "написала",  # Ukrainian
    "写道", "寫道",  # Chinese
    "님이 작성", "작성",  # Korean
    "さんは書きました", "は書きました", "書きました", "のメール",  # Japanese
    "a scris", "au scris",  # Romanian
    "ezt írta", "írta",  # Hungarian
    "έγραψε", "έγραψαν",  # Greek
    "napísal(a)", "napísal", "napísala",  # Slovak
)  # fmt: skip

# Words an attribution starts with, before the date ("On", "Am", "Le", "Den", "Dnia", "在").
ATTRIBUTION_OPENERS: tuple[str, ...] = (
    "On", "At", "In message", "Am", "Le", "El", "Op", "Em", "Il", "Il giorno", "Den", "Dnia", "Dňa",
    "Dne", "W dniu", "På", "在", "于", "Pe", "În data de", "În", "Στις", "Την", "V", "Le jour",
)  # fmt: skip

# "-----Original Message-----" and its kin, between runs of dashes (or alone, as in
# "Begin forwarded message:" below).
SEPARATOR_PHRASES: tuple[str, ...] = (
    "Original Message", "Original message", "Forwarded message", "Forwarded Message", "Reply message",
    "Message original",
    "Ursprüngliche Nachricht", "Originalnachricht", "Weitergeleitete Nachricht",
    "Message d'origine", "Message d’origine", "Message transféré",
    "Mensaje original", "Mensaje reenviado",
    "Oorspronkelijk bericht", "Origineel bericht", "Doorgestuurd bericht",
    "Mensagem original", "Mensagem encaminhada",
    "Messaggio originale", "Messaggio inoltrato",
    "Oprindelig meddelelse", "Videresendt meddelelse", "Opprinnelig melding", "Videresendt melding",
    "Ursprungligt meddelande", "Vidarebefordrat meddelande",
    "Alkuperäinen viesti", "Välitetty viesti",
    "Wiadomość oryginalna", "Oryginalna wiadomość", "Przekazana wiadomość",
    "Původní zpráva", "Přeposlaná zpráva",
    "Orijinal mesaj", "Orijinal ileti", "İletilen ileti", "İletilmiş ileti",
    "Исходное сообщение", "Пересылаемое сообщение", "Оригинальное сообщение",
    "Оригінальне повідомлення", "Вихідне повідомлення", "Пересланий лист", "Переслане повідомлення",
    "原始邮件", "原始郵件", "转发邮件", "轉寄郵件", "原始信件",
    "元のメッセージ", "転送メッセージ", "オリジナル メッセージ",
    "원본 메시지", "전달된 메시지",
    "Mesaj original", "Mesajul original", "Mesaj redirecționat", "Mesaj redirecţionat",
    "Eredeti üzenet", "Továbbított üzenet", "Αρχικό μήνυμα", "Προωθημένο μήνυμα",
    "Pôvodná správa", "Preposlaná správa",
)  # fmt: skip

# The line above a forwarded message that follows without quote marks (Apple Mail and kin).
FORWARD_INTROS: tuple[str, ...] = (
    "Begin forwarded message",
    "Anfang der weitergeleiteten Nachricht",
    "Début du message réexpédié", "Début du message transféré",
    "Inicio del mensaje reenviado",
    "Begin doorgestuurd bericht",
    "Início da mensagem encaminhada",
    "Inizio messaggio inoltrato",
    "Start på videresendt besked", "Videresendt besked", "Videresendt melding",
    "Vidarebefordrat meddelande", "Början på vidarebefordrat meddelande",
    "Välitetty viesti alkaa",
    "Początek przekazywanej wiadomości",
    "Začátek přeposlané zprávy",
    "İletilen ileti başlangıcı",
    "Начало переадресованного сообщения", "Пересылаемое сообщение",
    "Початок пересланого повідомлення",
    "转发的邮件", "以下是转发的邮件", "開始轉寄的郵件",
    "転送されたメッセージ",
    "전달된 메시지 시작",
    "Începutul mesajului redirecționat", "Începutul mesajului redirecţionat",
    "Továbbított levél kezdete", "Αρχή προωθημένου μηνύματος", "Začiatok preposlanej správy",
)  # fmt: skip

# Labels of the header block clients put above an original ("From:/Sent:/To:/Subject:").
HEADER_FROM_LABELS: tuple[str, ...] = (
    "From", "Von", "De", "Expéditeur", "Remitente", "Van", "Afzender", "Da", "Mittente", "Fra",
    "Afsender", "Avsender", "Från", "Avsändare", "Lähettäjä", "Od", "Nadawca", "Odesílatel", "Kimden",
    "Gönderen", "От", "Від", "发件人", "發件人", "寄件者", "寄件人", "差出人", "送信者", "보낸 사람",
    "보낸사람", "De la", "Feladó", "Από", "Αποστολέας",
)  # fmt: skip
HEADER_DATE_LABELS: tuple[str, ...] = (
    "Sent", "Date", "Gesendet", "Datum", "Envoyé", "Date d'envoi", "Enviado", "Enviado el", "Enviada",
    "Enviada em", "Enviado em", "Fecha", "Verzonden", "Verstuurd", "Inviato", "Data", "Sendt", "Dato",
    "Skickat", "Lähetetty", "Päivämäärä", "Wysłano", "Wysłane", "Odesláno", "Gönderildi", "Tarih",
    "Gönderilme", "Отправлено", "Дата", "Надіслано", "发送时间", "發送時間", "时间", "日期",
    "寄件日期", "送信日時", "日付", "日時", "보낸 날짜", "날짜", "Trimis", "Dată", "Küldve", "Elküldve",
    "Dátum", "Στάλθηκε", "Ημερομηνία", "Odoslané",
)  # fmt: skip
HEADER_OTHER_LABELS: tuple[str, ...] = (
    "To", "Cc", "Bcc", "Subject", "Reply-To", "An", "Betreff", "Antwort an", "À", "Objet",
    "Destinataire", "Répondre à", "Para", "Asunto", "CC", "Assunto", "Aan", "Onderwerp",
    "Beantwoorden - Aan", "A", "Oggetto", "Risposta", "Til", "Emne", "Kopi", "Till", "Ämne", "Kopia",
    "Vastaanottaja", "Aihe", "Kopio", "Do", "Temat", "DW", "Komu", "Předmět", "Kopie", "Kime", "Konu",
    "Bilgi", "Кому", "Тема", "Копия", "Копія", "收件人", "收件者", "抄送", "副本", "主题", "主題",
    "主旨", "宛先", "件名", "받는 사람", "받는사람", "참조", "제목", "Către", "Subiect", "Címzett",
    "Tárgy", "Másolat", "Προς", "Θέμα", "Κοιν", "Predmet", "Kópia",
)  # fmt: skip

# Footers mail apps put under the person's words. "{device}" stands for a phone, tablet or
# app name. Matched against a whole line, with links ("<https://...>") taken out first.
APP_FOOTERS: tuple[str, ...] = (
    # English
    "Sent from my {device}", "Sent from {app}", "Sent with {app}", "Sent via {app}", "Sent using {app}",
    "Sent by {app}", "Sent from my {device} with {app}", "Get Outlook for {os}", "Get {app} for {os}",
    "Sent from Yahoo Mail on {os}", "Sent from Yahoo Mail for {device}", "Sent from Mail for Windows",
    "Sent via the Samsung Galaxy {device}", "Sent from a phone", "Sent from mobile", "Sent from phone",
    "Sent from my mobile", "{device} from mobile", "via mobile", "Sent via mobile",
    "Sent from my phone, please excuse typos",
    "Sent with Proton Mail secure email", "Sent from Proton Mail mobile", "Sent from Proton Mail for {os}",
    # German
    "Von meinem {device} gesendet", "Gesendet von meinem {device}", "Gesendet von {app}",
    "Gesendet mit {app}", "Gesendet mit der {app}", "Gesendet vom {device}", "Outlook für {os} beziehen",
    "Outlook für {os} herunterladen",
    "Diese Nachricht wurde von meinem {device} gesendet", "Von {app} gesendet",
    # French
    "Envoyé de mon {device}", "Envoyé depuis mon {device}", "Envoyé depuis ma {device}",
    "Envoyé de ma {device}", "Envoyé depuis {app}", "Envoyé avec {app}", "Obtenir Outlook pour {os}",
    "Envoyé à partir de {app}", "Envoyé à partir de mon {device}", "Envoyé de {app} pour {os}",
    "Télécharger Outlook pour {os}",
    # Spanish
    "Enviado desde mi {device}", "Enviado desde {app}", "Enviado con {app}", "Obtener Outlook para {os}",
    "Enviado a partir de {app}", "Descargar Outlook para {os}", "Enviado desde {app} con {os}",
    "Enviado desde {app} para {os}",
    # Dutch
    "Verstuurd vanaf mijn {device}", "Verzonden vanaf mijn {device}", "Verzonden met {app}",
    "Verstuurd met {app}", "Verzonden vanuit {app}", "Outlook voor {os} downloaden",
    # Portuguese
    "Enviado do meu {device}", "Enviado de meu {device}", "Enviado do {app}", "Enviado pelo {app}",
    "Enviado do {app} no {os}", "Enviado do {app} para {os}",
    "Obter o Outlook para {os}", "Baixe o Outlook para {os}",
    # Italian
    "Inviato da {device}", "Inviato dal mio {device}", "Inviato da {app}", "Inviato da {app} su {os}",
    "Scarica Outlook per {os}",
    # Danish, Norwegian
    "Sendt fra min {device}", "Sendt fra {app}", "Sendt med {app}", "Hent Outlook til {os}",
    "Få Outlook til {os}", "Hent Outlook for {os}", "Få Outlook for {os}",
    # Swedish
    "Skickat från min {device}", "Skickat från {app}", "Skickat med {app}", "Hämta Outlook för {os}",
    "Från min {device}",
    # Finnish
    "Lähetetty {device}sta", "Lähetetty {device}lta", "Lähetetty {device}stani", "Lähetetty {app}",
    "Lähetetty {device}-laitteesta", "Hanki Outlook for {os}",
    # Polish
    "Wysłane z {device}", "Wysłano z {device}", "Wysłano z mojego {device}", "Wysłane z mojego {device}",
    "Pobierz aplikację Outlook dla systemu {os}",
    # Czech
    "Odesláno z {device}", "Odesláno z mého {device}", "Odesláno z aplikace {app}",
    "Stáhněte si Outlook pro {os}",
    # Turkish
    "{device}'umdan gönderildi", "{device}'dan gönderildi", "{device} cihazımdan gönderildi",
    "{device} akıllı telefonumdan gönderildi", "{device} telefonumdan gönderildi",
    "{device} ile gönderildi", "{os} için Outlook'u edinin",
    # Russian
    "Отправлено с {device}", "Отправлено из {app}", "Отправлено с моего {device}",
    "Отправлено с помощью {app}", "Отправлено из мобильной Почты Mail.ru",
    "Отправлено из мобильной почты Mail.ru", "Отправлено из Яндекс Почты для мобильных",
    "Отправлено из приложения {app}", "Скачайте Outlook для {os}",
    # Ukrainian
    "Надіслано з {device}", "Надіслано з мого {device}", "Відправлено з {device}",
    "Надіслано з {app}",
    # Chinese
    "发自我的{device}", "发自我的 {device}", "從我的 {device} 傳送", "從我的{device}傳送", "来自我的{device}",
    "发自{app}", "來自我的{device}", "发送自 {app}", "从{app}发送",
    # Japanese
    "{device}から送信", "{device} から送信", "{device}から送信されました",
    "{device} から送信されました", "{os} 版 Outlook を入手", "{os}版Outlookを入手",
    # Korean
    "{device}에서 보냄", "{device}에서 보냈습니다", "{device} 스마트폰에서 보냈습니다",
    "{os}용 Outlook 받기",
    # Romanian
    "Trimis de pe {device}", "Trimis de pe {device}-ul meu", "Trimis din {app}", "Trimis cu {app}",
    "Obțineți Outlook pentru {os}", "Obţineţi Outlook pentru {os}",
    # Hungarian
    "{device}-ról küldve", "{device}-ről küldve", "Az {device}-omról küldve", "{device}-omról küldve",
    "Elküldve az {device}-omról", "Küldve {app} segítségével", "{app} alkalmazásból küldve",
    "Az {os} rendszerhez készült Outlook letöltése",
    # Greek
    "Εστάλη από το {device} μου", "Στάλθηκε από το {device} μου", "Αποστολή από {device}",
    "Στάλθηκε από {app}", "Λήψη του Outlook για {os}",
    # Slovak
    "Odoslané z {device}", "Odoslané z môjho {device}", "Odoslané z aplikácie {app}",
    "Získať Outlook pre {os}", "Získajte Outlook pre {os}",
)  # fmt: skip

# Closing phrases that start a sign-off block ("Best regards,\nJonas Weber\nPlatform team").
CLOSINGS: frozenset[str] = frozenset(
    {
        # English
        "thanks", "thank you", "thanks again", "many thanks", "thanks a lot", "thx", "cheers", "best",
        "best regards", "kind regards", "warm regards", "regards", "all the best", "best wishes", "sincerely",
        "yours", "yours sincerely", "thanks in advance", "br", "rgds", "talk soon", "take care",
        "warmest regards", "with thanks", "with best regards", "with kind regards", "kindest regards",
        "thanks so much", "thank you so much", "thanks very much", "thank you very much",
        "much appreciated", "respectfully", "cordially", "speak soon", "all best", "cheers all",
        # German
        "danke", "vielen dank", "danke schön", "gruß", "grüße", "viele grüße", "beste grüße", "liebe grüße",
        "schöne grüße", "herzliche grüße", "freundliche grüße", "mit freundlichen grüßen", "mfg", "vg", "lg",
        "mit besten grüßen", "gruss", "grüsse", "viele grüsse", "liebe grüsse", "beste grüsse",
        "freundliche grüsse", "mit freundlichen grüssen", "herzliche grüsse", "besten dank",
        "danke und gruß", "danke und viele grüße", "schönen gruß", "schöne grüsse", "mit besten grüssen",
        "bg",
        # French
        "merci", "merci beaucoup", "cordialement", "bien cordialement", "bien à vous", "salutations",
        "bonne journée", "à bientôt", "amicalement", "bises", "bonne soirée",
        "bien à toi", "très cordialement", "salutations distinguées", "meilleures salutations",
        "sincères salutations", "merci d'avance", "merci par avance", "à plus", "belle journée",
        "bien amicalement", "bonne fin de journée",
        # Spanish
        "gracias", "muchas gracias", "saludos", "un saludo", "saludos cordiales", "atentamente", "un abrazo",
        "un cordial saludo", "gracias de antemano", "muchas gracias de antemano", "abrazos",
        "un abrazo fuerte", "atte", "besos", "saludos y gracias",
        # Dutch
        "bedankt", "dank je", "dank je wel", "dank u", "dank u wel", "groet", "groeten",
        "met vriendelijke groet", "met vriendelijke groeten", "mvg", "hartelijke groet", "vriendelijke groet",
        "groetjes", "hartelijke groeten", "met hartelijke groet", "vriendelijke groeten",
        "alvast bedankt", "fijne dag", "gr",
        # Portuguese
        "obrigado", "obrigada", "muito obrigado", "muito obrigada", "abraço", "abraços", "um abraço",
        "atenciosamente", "att", "cumprimentos", "melhores cumprimentos", "saudações",
        "com os melhores cumprimentos", "com os meus melhores cumprimentos", "com cumprimentos",
        "saudações cordiais", "cordialmente", "beijos", "bjs", "abs",
        # Italian
        "grazie", "grazie mille", "saluti", "cordiali saluti", "distinti saluti", "un saluto", "a presto",
        "buona giornata", "un caro saluto", "cari saluti", "grazie ancora", "un abbraccio", "buon lavoro",
        "saluti cordiali", "ciao",
        # Danish, Norwegian
        "tak", "mange tak", "hilsen", "venlig hilsen", "med venlig hilsen", "mvh", "vh", "med vennlig hilsen",
        "vennlig hilsen", "takk", "tusen takk", "beste hilsen", "god dag",
        "kh", "kærlig hilsen", "venlige hilsner", "de bedste hilsner", "bedste hilsner", "mange hilsner",
        "god weekend", "vennlige hilsener", "beste hilsener", "ha en fin dag", "takk skal du ha",
        "tusind tak",
        # Swedish
        "hälsningar", "vänliga hälsningar", "med vänliga hälsningar",
        "med vänlig hälsning", "vänlig hälsning", "vänligen", "tack", "tack så mycket",
        "bästa hälsningar",
        "ha det bra", "kram", "tack på förhand", "allt gott", "trevlig helg", "hälsar",
        # Finnish
        "kiitos", "kiitos paljon", "terveisin", "ystävällisin terveisin", "parhain terveisin", "t.",
        "kiitos jo etukäteen", "hyvää päivänjatkoa", "kiitos ja terveisin", "kiitoksin", "terv",
        # Polish
        "dzięki", "dziękuję", "pozdrawiam", "pozdrowienia", "z poważaniem", "serdecznie pozdrawiam",
        "z pozdrowieniami", "pozdrawiam serdecznie", "serdeczne pozdrowienia", "łączę pozdrowienia",
        "z wyrazami szacunku", "miłego dnia",
        "dziękuję bardzo", "z góry dziękuję", "pozdr", "dzięki wielkie", "ukłony",
        # Czech
        "díky", "děkuji", "s pozdravem", "zdravím", "s přáním hezkého dne", "hezký den",
        "děkuji předem", "předem děkuji", "díky moc", "mějte se", "s přátelským pozdravem", "pěkný den",
        # Turkish
        "teşekkürler", "teşekkür ederim", "saygılarımla", "iyi çalışmalar", "selamlar", "sevgiler",
        "saygılarımızla", "iyi günler", "kolay gelsin", "sevgiyle", "iyi çalışmalar dilerim",
        # Russian
        "спасибо", "с уважением", "всего доброго", "с наилучшими пожеланиями", "заранее спасибо",
        "спасибо заранее", "хорошего дня", "всего хорошего", "спасибо большое", "большое спасибо",
        "благодарю",
        # Ukrainian
        "дякую", "з повагою", "щиро дякую", "всього найкращого",
        "гарного дня", "дякую заздалегідь", "з найкращими побажаннями", "щиро",
        # Chinese
        "谢谢", "謝謝", "此致", "此致敬礼", "此致敬禮", "祝好", "顺祝商祺", "順祝商祺",
        "顺颂商祺", "順頌商祺", "多谢", "多謝", "敬上", "祝工作顺利", "祝工作順利", "感谢", "感謝",
        # Japanese
        "よろしくお願いします", "よろしくお願いいたします", "よろしくお願い致します", "以上です", "以上",
        "ありがとうございます", "ありがとうございました",
        "宜しくお願いします", "何卒よろしくお願いいたします", "引き続きよろしくお願いいたします",
        "以上、よろしくお願いいたします",
        # Korean
        "감사합니다", "고맙습니다", "감사합니다 수고하세요", "수고하세요", "감사드립니다",
        "잘 부탁드립니다", "좋은 하루 되세요", "감사합니다 좋은 하루 되세요",
        # Romanian
        "mulțumesc", "mulţumesc", "mersi", "cu stimă", "cu respect", "toate cele bune", "o zi bună",
        "numai bine", "cu drag", "salutări", "cu bine",
        "mulțumesc frumos", "o zi frumoasă",
        # Hungarian
        "üdvözlettel", "üdv", "köszönöm", "köszi", "tisztelettel", "baráti üdvözlettel", "szép napot",
        "köszönettel", "előre is köszönöm",
        # Greek
        "ευχαριστώ", "με εκτίμηση", "φιλικά", "χαιρετισμούς", "με φιλικούς χαιρετισμούς", "καλή συνέχεια",
        "ευχαριστώ πολύ", "χαιρετώ",
        # Slovak
        "ďakujem", "vďaka", "s pozdravom", "pekný deň", "s úctou",
        "ďakujem pekne", "vopred ďakujem",
    }
)  # fmt: skip

# Lines under a mailing list's underscore rule or at the end of a list message.
MAILING_LIST_MARKERS: tuple[str, ...] = (
    "mailing list",
    "listinfo",
    "unsubscribe",
    "list-unsubscribe",
    "lists.",
    "mailman",
    "google groups",
    "to post to this group",
    "you received this message because",
    "manage your subscription",
)

# Mail apps named in "Sent from <app>" footers. Only these count: "Sent from the office,
# where the numbers are." is a sentence, not a footer.
MAIL_APPS: tuple[str, ...] = (
    "Mail", "Outlook", "Outlook Mobile", "Outlook for iOS", "Outlook for Android", "Outlook für iOS",
    "Outlook für Android", "Yahoo Mail", "Yahoo Mail for iPhone", "Yahoo Mail on Android",
    "Yahoo Mail for Android", "Yahoo Mail pour Android", "Yahoo Mail para Android", "Gmail", "Gmail Mobile",
    "AOL Mail", "AOL", "Windows Mail", "Mail for Windows", "Mail for Windows 10", "Mail für Windows",
    "Courrier pour Windows", "Mailbox", "Mailbox for iPad", "Mailbox for iPhone", "Spark", "Airmail",
    "Proton Mail", "ProtonMail", "BlackBerry", "BlackBerry 10", "Samsung Mail", "Samsung Email",
    "Fastmail", "Zoho Mail", "Yandex Mail", "Yandex.Mail", "Яндекс Почты", "Яндекс.Почты", "Mail.ru",
    "myMail", "Newton", "Edison Mail", "Superhuman", "HEY", "K-9 Mail", "FairEmail", "Nine",
    "Canary Mail", "GMX Mail App", "GMX Mail", "WEB.DE Mail App", "WEB.DE Mail", "Thunderbird",
    "Apple Mail", "Mailspring", "Polymail", "Postbox", "Foxmail", "QQ邮箱", "网易邮箱大师", "iCloud Mail",
    "Tuta", "Tutanota", "Bluemail", "BlueMail", "Aqua Mail", "Mail.ru для Android",
)  # fmt: skip

# Words of a confidentiality notice that companies add under every mail.
# The apology some apps add after their footer: "Sent from my phone. Please excuse my brevity."
PLEASE_WORDS: tuple[str, ...] = (
    "please", "bitte", "s'il vous plaît", "merci d'", "por favor", "per favore", "por favor,",
    "alsjeblieft", "gelieve", "venligst", "vennligst", "vänligen", "ole hyvä", "proszę", "prosím",
    "пожалуйста", "будь ласка", "lütfen",
)  # fmt: skip
EXCUSE_WORDS: tuple[str, ...] = (
    "excuse", "pardon", "sorry", "forgive", "entschuldigen", "entschuldige", "excusez", "désolé",
    "disculpa", "disculpe", "perdona", "scusa", "scusate", "desculpe", "desculpa", "excuseer",
    "sorry voor", "undskyld", "unnskyld", "ursäkta", "anteeksi", "przepraszam", "omluvte",
    "prominte", "извините", "простите", "вибачте", "kusura", "lütfen",
)  # fmt: skip
DISCLAIMER_MARKERS: tuple[str, ...] = (
    "confidential", "intended only for", "intended solely for", "intended recipient", "privileged",
    "disclaimer", "vertraulich", "confidentiel", "confidencial", "riservat", "vertrouwelijk",
    "uitsluitend bestemd", "geadresseerde",
    "fortrolig", "konfidentiell", "konfidensiell", "bizalmas", "dôvern", "confidențial", "confidenţial",
    "εμπιστευτικ", "luottamukselli", "poufn", "důvěrn", "gizli", "конфиденциальн",
    "конфіденційн", "保密", "機密", "기밀", "비밀 정보", "수신자만",
)  # fmt: skip
