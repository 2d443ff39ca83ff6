"""Short lyrics written for Crossfade's tests, each in English, Russian and French with the same meaning.

Row ``i`` of every list says the same thing; ``THEMES[i]`` is a prompt for it.
"""
from __future__ import annotations

EN = [
    "We sail at dawn across the grey sea\nthe salt wind fills our sails\nthe harbour fades behind us",
    "I left my mother's house with one small bag\nthe train took me far from the village\nI never went back home",
    "Dancing all night in the city lights\nmusic so loud on the crowded floor\nwe will not sleep until the morning",
    "Snow is falling on the empty fields\nthe winter night is long and cold\nthe fire in the stove has gone out",
    "You kissed me under the summer rain\nmy heart is yours forever\nI love you more than words can say",
    "The soldiers marched away to war\nmothers cried at the station\nmany of them never came back",
]
RU = [
    "Мы уходим на рассвете в серое море\nсолёный ветер наполняет паруса\nгавань исчезает позади",
    "Я ушёл из маминого дома с одной сумкой\nпоезд увёз меня далеко от деревни\nя так и не вернулся домой",
    "Мы танцуем всю ночь в огнях города\nмузыка гремит на полном танцполе\nмы не уснём до самого утра",
    "Снег падает на пустые поля\nзимняя ночь длинна и холодна\nогонь в печи погас",
    "Ты целовала меня под летним дождём\nмоё сердце твоё навсегда\nя люблю тебя сильнее, чем скажут слова",
    "Солдаты ушли на войну\nматери плакали на вокзале\nмногие из них так и не вернулись",
]
FR = [
    "Nous partons à l'aube sur la mer grise\nle vent salé gonfle nos voiles\nle port disparaît derrière nous",
    "J'ai quitté la maison de ma mère avec un petit sac\nle train m'a emmené loin du village\nje ne suis jamais rentré chez moi",
    "On danse toute la nuit sous les lumières de la ville\nla musique est si forte sur la piste\non ne dormira pas avant le matin",
    "La neige tombe sur les champs vides\nla nuit d'hiver est longue et froide\nle feu du poêle s'est éteint",
    "Tu m'as embrassé sous la pluie d'été\nmon cœur est à toi pour toujours\nje t'aime plus que les mots ne peuvent dire",
    "Les soldats sont partis à la guerre\nles mères pleuraient à la gare\nbeaucoup ne sont jamais revenus",
]
#: One prompt per row, in a mix of languages.
THEMES = [
    "песни о море",
    "songs about leaving home",
    "dancing all night in the city",
    "chansons sur l'hiver et la neige",
    "песни о любви",
    "songs about war",
]
