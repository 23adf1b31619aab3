package privacy

// readme is README.txt of every export, in French then English.
const readme = `Vos données personnelles chez Relais
=====================================

Cette archive contient tout ce que Relais conserve à votre sujet, au
moment où elle a été préparée. Les fichiers .json se lisent avec un
éditeur de texte ; les dates sont en UTC, les montants en centimes
d'euro.

account.json         votre compte : nom, adresse électronique, téléphone,
                     adresse de facturation, langue, choix de courriels
sessions.json        vos connexions (appareil, adresse IP, dates), les
                     adresses et les appareils avec lesquels vous vous
                     êtes connecté
reservations.json    vos réservations, passées et à venir
waiting_list.json    vos inscriptions en liste d'attente
qualifications.json  les formations qui vous ont été validées
calendar_feeds.json  vos liens d'agenda (dates seulement, pas le secret)
memberships.json     vos abonnements, pass journée et carnets
payments.json        vos paiements et consommations à l'usage
invoices.json        vos factures et avoirs ; invoices/NUMÉRO.pdf chacun
credits.json         vos crédits : soldes et mouvements
contributions.json   vos contributions aux campagnes de financement ;
                     receipts/NUMÉRO.pdf leurs reçus
access_events.json   les ouvertures de portes et de machines qui vous
                     concernent (conservées trois mois par défaut)
notes.json           les notes que l'équipe d'un lieu a écrites à votre
                     sujet (auteur, date)
guest.json           si un lieu vous a inscrit sans compte : votre commune
                     et votre tranche d'âge
ateliers.json        vos inscriptions aux ateliers et votre présence
appointments.json    vos rendez-vous avec les services publics, leur
                     issue, la note du partenaire et le lien de la visio

Your personal data at Relais
============================

This archive holds everything Relais keeps about you, as of when it was
prepared. The .json files open in a text editor; times are UTC, amounts
are in euro cents.

account.json         your account: name, email, phone, billing address,
                     language, mail choices
sessions.json        your logins (device, IP address, dates), and the
                     addresses and devices you logged in from
reservations.json    your reservations, past and future
waiting_list.json    your waiting-list entries
qualifications.json  the trainings you were granted
calendar_feeds.json  your calendar feed links (dates only, not the secret)
memberships.json     your memberships, day passes and packs
payments.json        your payments and pay-per-use charges
invoices.json        your invoices and credit notes; invoices/NUMBER.pdf each
credits.json         your credit: balances and movements
contributions.json   your contributions to crowdfunding campaigns;
                     receipts/NUMBER.pdf their receipts
access_events.json   the door and machine openings about you (kept three
                     months by default)
notes.json           the notes a place's team wrote about you (author,
                     date)
guest.json           if a place registered you without an account: your
                     commune and age band
ateliers.json        your registrations to ateliers and whether you came
appointments.json    your appointments with public services, their
                     outcome, the partner's note and the video link
`
